"""What a daily dbt build covers: the models downstream of the raw tables that changed, and the tests reading
them (lib/core/dbt_selection.py), checked on the real project's manifest; the sets are read off the models'
refs by hand."""

from __future__ import annotations

import json

import duckdb
import pytest

from orchestration.lib.core.dbt_selection import (
    built_fingerprint,
    changed_sources,
    clear_changed_sources,
    missing_relations,
    plan_build,
    record_changed_sources,
    record_whole_build,
)


@pytest.fixture(scope="module")
def manifest(dbt_manifest):
    return json.loads(dbt_manifest.read_text())


def _names(manifest, unique_ids):
    return {manifest["nodes"][u]["name"] for u in unique_ids}


def _tests_of(manifest, model):
    return {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and (n.get("attached_node") or "").endswith(f".{model}")
    }


def test_follower_activity_rebuilds_its_staging_its_mart_and_the_accounts_dimension(manifest):
    plan = plan_build(manifest, {"studio_follower_activity"})
    # stg_studio__follower_activity <- source; fct_follower_activity_hourly <- staging; dim_accounts reads the mart
    assert _names(manifest, plan.models) == {
        "stg_studio__follower_activity",
        "fct_follower_activity_hourly",
        "dim_accounts",
    }
    tests = _names(manifest, plan.tests)
    assert _tests_of(manifest, "fct_follower_activity_hourly") <= tests
    assert _tests_of(manifest, "dim_accounts") <= tests
    # another fact's relationships test to the rebuilt dimension runs; that fact's own tests do not
    assert "relationships_fct_account_overview_daily_account_handle__account_handle__ref_dim_accounts_" in tests
    assert (
        not _tests_of(manifest, "fct_account_overview_daily")
        - {"relationships_fct_account_overview_daily_account_handle__account_handle__ref_dim_accounts_"}
        & tests
    )
    # everything else is excluded by name, each node exactly once
    every = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "test")}
    assert set(plan.excluded) == every - _names(manifest, plan.models | plan.tests)
    assert len(plan.excluded) == len(set(plan.excluded))
    assert "fct_live_sessions" in plan.excluded and "stg_studio__content" in plan.excluded


def test_a_content_snapshot_reaches_every_video_mart_and_no_live_or_api_model(manifest):
    plan = plan_build(manifest, {"studio_content", "documents", "row_flags"})
    models = _names(manifest, plan.models)
    assert {
        "stg_studio__content",
        "int_video_snapshots__unioned",
        "int_video_snapshots__with_previous",
        "fct_video_engagement_daily",
        "dim_videos",
        "rpt_trending_videos_7d",
        "rpt_video_outliers_daily",
        "dim_accounts",
        # raw.documents / raw.row_flags
        "stg_studio__documents",
        "stg_studio__row_flags",
        "rpt_account_freshness",
    } <= models
    assert not {m for m in models if "live" in m or "tiktok_api" in m or m == "fct_account_overview_daily"}
    # the source test of a changed raw table runs; one of an unchanged raw table does not
    source_tests = {
        manifest["nodes"][u]["name"]
        for u in plan.tests
        if any(d.startswith("source.") for d in manifest["nodes"][u]["depends_on"]["nodes"])
    }
    assert not {t for t in source_tests if "tiktok_api" in t}


def test_nothing_changed_builds_nothing(manifest):
    plan = plan_build(manifest, set())
    assert plan.empty and not plan.sources
    # a raw table no model reads changes nothing either
    assert plan_build(manifest, {"archive_manifest"}).empty


def test_the_pending_record_survives_until_a_build_covers_it(tmp_path, manifest):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert changed_sources(con) == set() and built_fingerprint(con) is None
        record_changed_sources(con, ["studio_content", "documents"])
        record_changed_sources(con, ["documents"])  # twice is once
        assert changed_sources(con) == {"studio_content", "documents"}
        # a build planned before `live_events` landed clears only what it covered
        planned = changed_sources(con)
        record_changed_sources(con, ["live_events"])
        clear_changed_sources(con, planned)
        assert changed_sources(con) == {"live_events"}
        record_whole_build(con, "abc")
        record_whole_build(con, "def")
        assert built_fingerprint(con) == "def"
        # a fresh warehouse has none of the project's relations
        missing = missing_relations(con, manifest)
        assert "dim_accounts" in missing and "stg_studio__content" in missing
        con.execute("create schema marts")
        con.execute("create table marts.dim_accounts (account_handle varchar)")
        assert "dim_accounts" not in missing_relations(con, manifest)
