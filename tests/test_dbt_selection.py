"""What a daily dbt build covers: the models downstream of the raw tables that changed, and the tests reading
them (lib/core/dbt_selection.py), checked on the real project's manifest; the sets are read off the models'
refs by hand."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pytest

from orchestration.lib.core.dbt_selection import (
    built_fingerprint,
    built_keying_vars,
    changed_source_dates,
    changed_sources,
    clear_changed_sources,
    missing_relations,
    model_min_dates,
    plan_build,
    record_changed_sources,
    record_whole_build,
    through_kept_views,
    whole_build_unfinished,
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
    # stg_studio__follower_activity <- source; fct_follower_activity_hourly <- staging; dim_accounts reads the mart;
    # rpt_account_freshness reads dim_accounts (which handles are agency-wide folders, not accounts)
    assert _names(manifest, plan.models) == {
        "stg_studio__follower_activity",
        "fct_follower_activity_hourly",
        "dim_accounts",
        "rpt_account_freshness",
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
        "int_video_snapshots__unioned",
        "fct_video_engagement_daily",
        "dim_videos",
        "rpt_trending_videos_7d",
        "rpt_video_outliers_daily",
        "dim_accounts",
        "rpt_account_freshness",  # raw.documents
    } <= models
    # the views between are kept as they are (they read the new rows), excluded by one selector; their tests run
    kept = {
        "stg_studio__content",
        "int_video_snapshots__with_previous",
        "stg_studio__documents",
        "stg_studio__row_flags",
    }
    assert kept <= _names(manifest, plan.views) and not kept & models and kept <= set(plan.excluded)
    assert _tests_of(manifest, "stg_studio__content") | _tests_of(manifest, "int_video_snapshots__with_previous") <= (
        _names(manifest, plan.tests)
    )
    assert plan.dbt_exclude[-1] == "config.materialized:view" and not kept & set(plan.dbt_exclude)
    assert "fct_live_sessions" in plan.dbt_exclude and "stg_live__sessions" not in plan.dbt_exclude  # a view
    assert not {m for m in models if "live" in m or "tiktok_api" in m or m == "fct_account_overview_daily"}
    # the source test of a changed raw table runs; one of an unchanged raw table does not
    source_tests = {
        manifest["nodes"][u]["name"]
        for u in plan.tests
        if any(d.startswith("source.") for d in manifest["nodes"][u]["depends_on"]["nodes"])
    }
    assert not {t for t in source_tests if "tiktok_api" in t}


def test_a_test_of_a_kept_view_waits_for_the_models_the_view_reads(manifest):
    """A kept view is not run: its test must wait for (and be skipped after a failure of) what the view reads, as dbt
    orders its own test across an excluded node; else it reads the incremental below it before it is rebuilt."""
    plan = plan_build(manifest, {"studio_content"})
    model = "model.tiktok_warehouse."
    # int_video_snapshots__with_previous (view) reads int_video_snapshots__unioned (incremental, rebuilt)
    assert through_kept_views(manifest, [f"{model}int_video_snapshots__with_previous"], plan.views) == (
        f"{model}int_video_snapshots__unioned",
    )
    # stg_studio__content (view) reads the raw table; a node that is no kept view stays, each once
    parents = through_kept_views(
        manifest, [f"{model}stg_studio__content", f"{model}dim_videos", f"{model}dim_videos"], plan.views
    )
    assert sorted(parents) == [f"{model}dim_videos", "source.tiktok_warehouse.studio.studio_content"]
    # the build's batched tests carry those parents (what the tests run alongside dbt wait for)
    from orchestration.defs.dbt import dbt_build, split_batched_tests

    _, batched = split_batched_tests(dbt_build(None, plan=plan), manifest)
    (test,) = (
        test
        for test in batched.values()
        if test.name == "not_null_int_video_snapshots__with_previous_is_first_snapshot"
    )
    assert test.parents == (f"{model}int_video_snapshots__unioned",)
    # a view this build does not reach is no kept view: the test waits for it, as before (it is not run: as it was)
    assert through_kept_views(manifest, [f"{model}stg_live__sessions"], plan.views) == (f"{model}stg_live__sessions",)


def test_nothing_changed_builds_nothing(manifest):
    plan = plan_build(manifest, set())
    assert plan.empty and not plan.sources
    # a raw table no model reads changes nothing either
    assert plan_build(manifest, {"no_model_reads_this_table"}).empty


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


def test_each_changed_table_keeps_its_earliest_day_and_an_unknown_day_stays_unknown():
    con = duckdb.connect()
    record_changed_sources(con, ["studio_overview", "studio_content"], {"studio_overview": date(2026, 3, 1)})
    assert changed_source_dates(con) == {"studio_overview": date(2026, 3, 1), "studio_content": None}
    record_changed_sources(con, ["studio_overview"], {"studio_overview": pd.Timestamp("2026-03-05")})  # later: kept
    record_changed_sources(con, ["studio_content"], {"studio_content": date(2026, 3, 9)})  # unknown before: stays
    record_changed_sources(con, ["studio_viewers"], {"studio_viewers": pd.NaT})
    assert changed_source_dates(con) == {
        "studio_overview": date(2026, 3, 1), "studio_content": None, "studio_viewers": None
    }  # fmt: skip
    record_changed_sources(con, ["studio_overview"], {"studio_overview": date(2026, 2, 27)})  # earlier: lowered
    record_changed_sources(con, ["studio_overview"])  # then not known: unknown from now on
    assert changed_source_dates(con)["studio_overview"] is None
    clear_changed_sources(con, ["studio_overview", "studio_content", "studio_viewers"])
    record_changed_sources(con, ["studio_overview"], {"studio_overview": date(2026, 3, 20)})
    assert changed_source_dates(con) == {"studio_overview": date(2026, 3, 20)}


def test_an_incremental_model_recomputes_from_the_earliest_day_of_the_changed_tables_it_reads(manifest):
    # an Overview and a Viewers file from 1 March, a FollowerHistory from 3 March, a Content snapshot of 9 March
    days = {"studio_overview": date(2026, 3, 1), "studio_viewers": date(2026, 3, 4),
            "studio_follower_history": date(2026, 3, 3), "studio_content": date(2026, 3, 9),
            "documents": date(2026, 3, 1)}  # fmt: skip
    plan = plan_build(manifest, set(days))
    later = model_min_dates(manifest, plan, days, date(2026, 3, 1))
    # the video models read Content (and the API's video tables, unchanged); follower growth, FollowerHistory;
    # the account overview reads Overview and Viewers (the earlier: 1 March, the build's own day: no entry)
    assert later == {
        "int_video_snapshots__unioned": date(2026, 3, 9),
        "fct_video_engagement_daily": date(2026, 3, 9),
        "rpt_trending_videos_7d": date(2026, 3, 9),
        "rpt_video_outliers_daily": date(2026, 3, 9),
        "fct_follower_growth_daily": date(2026, 3, 3),
    }
    # tables (dim_videos) and views are whole whatever the window; a table of unknown day gives no later window
    assert model_min_dates(manifest, plan, {**days, "studio_content": None}, date(2026, 3, 1)) == {
        "fct_follower_growth_daily": date(2026, 3, 3)
    }
    assert model_min_dates(manifest, plan, days, None) == {}  # no window at all: everything recomputed


def test_the_pending_min_date_is_only_ever_lowered_until_a_build_clears_it():
    from datetime import date

    from orchestration.lib.core.warehouse import clear_pending_min_date, pending_min_date, record_pending_min_date

    con = duckdb.connect()
    con.execute("create schema landing")
    assert pending_min_date(con) is None
    record_pending_min_date(con, None)  # a landing of nothing dated
    assert pending_min_date(con) is None
    for day, expected in [("2026-03-10", date(2026, 3, 10)), ("2026-03-12", date(2026, 3, 10)),
                          ("2026-03-01", date(2026, 3, 1)), (None, date(2026, 3, 1))]:  # fmt: skip
        record_pending_min_date(con, day)
        assert pending_min_date(con) == expected
    assert con.execute("select count(*) from landing.pending_rebuild").fetchone() == (1,)
    con.execute("insert into landing.pending_rebuild values ('2026-02-20'), (null)")  # as older versions could
    record_pending_min_date(con, "2026-02-25")
    assert pending_min_date(con) == date(2026, 2, 20)
    record_pending_min_date(con, "2026-02-02")
    assert pending_min_date(con) == date(2026, 2, 2)
    clear_pending_min_date(con)
    record_pending_min_date(con, "2026-03-20")
    assert pending_min_date(con) == date(2026, 3, 20)


def test_a_full_refresh_a_replay_asked_for_is_done_by_the_next_build_until_one_ends_well(dbt_manifest):
    """`replay` asks for a full refresh before it rewrites the raw tables (rows it withdrew leave the marts only
    that way); should its own full refresh die, the next run does it, and a successful one ends the request."""
    from orchestration.defs.dbt import finish_dbt_build, plan_dbt_build
    from orchestration.lib.core.dbt_selection import full_refresh_requested, request_full_refresh

    manifest = json.loads(dbt_manifest.read_text())
    con = duckdb.connect()
    request_full_refresh(con)
    request_full_refresh(con)  # asked twice: one request
    assert con.execute("select count(*) from landing.pending_full_refresh").fetchone() == (1,)
    for full_refresh in (False, True):  # a UI subset would not do it, nor a full refresh of a few models
        with pytest.raises(dg.Failure, match=r"full refresh of the whole project is pending .* keep rows the refresh"):
            plan_dbt_build(con, manifest, full_refresh=full_refresh, subset=True)
    build = plan_dbt_build(con, manifest, full_refresh=False, subset=False)
    assert (
        "--full-refresh" in build.args and build.whole and "a full refresh is pending (after a replay" in build.reason
    )
    assert full_refresh_requested(con), "asked until a build ends well"
    finish_dbt_build(con, build)
    assert not full_refresh_requested(con)
    assert "--full-refresh" not in plan_dbt_build(con, manifest, full_refresh=False, subset=False).args
    assert (
        plan_dbt_build(con, manifest, full_refresh=False, subset=True).reason == "these assets were selected in Dagster"
    )


def test_a_warehouse_built_by_another_version_of_the_project_is_refreshed_whole_once(dbt_manifest):
    """An upgrade or an edited model may compute old rows differently: Viewers' "0","0" fillers beside an undefined
    total became null, but a build from the window on left them 0 on every older day. A first build is a plain
    whole build (nothing to refresh); a warehouse another version built gets a full refresh, until one ends well."""
    from orchestration.defs.dbt import finish_dbt_build, plan_dbt_build

    manifest = json.loads(dbt_manifest.read_text())
    con = duckdb.connect()
    con.execute("create schema landing")  # a new warehouse's
    first = plan_dbt_build(con, manifest, full_refresh=False, subset=False)
    assert "--full-refresh" not in first.args and first.reason == "the warehouse was not built by this dbt project yet"
    record_whole_build(con, "an older version's fingerprint")
    # a few assets picked in the UI meanwhile: refused (its models would read tables the old version built, review)
    with pytest.raises(dg.Failure, match="built by another version of the dbt project"):
        plan_dbt_build(con, manifest, full_refresh=False, subset=True)
    upgraded = plan_dbt_build(con, manifest, full_refresh=False, subset=False)
    assert "--full-refresh" in upgraded.args and upgraded.whole
    assert upgraded.reason == "the warehouse was built by another version of it"
    assert "--full-refresh" in plan_dbt_build(con, manifest, full_refresh=False, subset=False).args, "until done"
    finish_dbt_build(con, upgraded)
    assert "--full-refresh" not in plan_dbt_build(con, manifest, full_refresh=False, subset=False).args
    assert (
        plan_dbt_build(con, manifest, full_refresh=False, subset=True).reason == "these assets were selected in Dagster"
    )


def test_after_a_whole_build_that_did_not_finish_the_next_build_is_whole(manifest, monkeypatch):
    """A whole build that failed half-way may have re-created views from an edit undone since: the fingerprint then
    matches again, and a planned build keeps views as they are (review). Until a whole build finishes, the next is
    whole; a planned build leaves the record as it is."""
    from orchestration.defs import dbt as dbt_defs
    from orchestration.defs.dbt import finish_dbt_build, plan_dbt_build, project_fingerprint

    monkeypatch.setattr(dbt_defs, "missing_relations", lambda con, manifest: [])  # as if every model were built
    con = duckdb.connect()
    con.execute("create schema landing")
    record_whole_build(con, project_fingerprint())
    record_changed_sources(con, ["studio_content"])

    def plan():
        return plan_dbt_build(con, manifest, full_refresh=False, subset=False)

    daily = plan()
    assert not daily.whole and not whole_build_unfinished(con)
    whole = plan_dbt_build(con, manifest, full_refresh=True, subset=False)
    assert whole.whole and whole_build_unfinished(con)  # ... and it failed: no finish_dbt_build
    again = plan()
    assert again.whole and "--full-refresh" not in again.args, "the same project: no full refresh for that alone"
    assert again.reason == "the last whole build did not finish: its views may be of another project"
    subset = plan_dbt_build(con, manifest, full_refresh=False, subset=True)  # a UI pick is not a whole build
    assert subset.reason == "these assets were selected in Dagster" and whole_build_unfinished(con)
    finish_dbt_build(con, again)
    assert not whole_build_unfinished(con) and not plan().whole


def test_every_dbt_var_either_forces_a_full_refresh_when_changed_or_moves_no_row(tmp_path):
    """Setting diamond_usd_rate later filled diamonds_usd from the build window on only: older LIVEs kept null while
    the daily table showed dollars for the same days (review). A var that shapes rows already built is in the
    digest a change of which makes the next build a full refresh; a new var must be classified."""
    from orchestration.lib.core import dbt_vars

    assert set(dbt_vars.project_vars()) == set(dbt_vars.REBUILD_VARS) | set(dbt_vars.VARS_MOVING_NO_ROW)
    text = (dbt_vars.DBT_PROJECT_DIR / "dbt_project.yml").read_text()
    digests = set()
    edits = [
        (None, None),
        ("diamond_usd_rate: null", "diamond_usd_rate: 0.005"),
        ("provisional_days: 3", "provisional_days: 5"),
        ("max_engagement_rate: 10", "max_engagement_rate: 20"),
    ]
    for old, new in edits:
        project = tmp_path / f"p{len(digests)}"
        project.mkdir()
        assert old is None or old in text, old
        (project / "dbt_project.yml").write_text(text if old is None else text.replace(old, new))
        digests.add(dbt_vars.keying_vars_digest(project))
    assert len(digests) == 3  # the rate and the provisional days each change it; the test's bound does not


def test_a_change_of_a_var_that_keys_rows_makes_the_next_build_a_full_refresh(tmp_path, manifest, monkeypatch):
    """account_handle_aliases, live_account_timezones, live_default_timezone move rows to other keys (an account, a
    LIVE's day): an incremental build would keep them under the old keys too. A warehouse built before the digest
    was recorded (its landing.dbt_build has one column) is not refreshed for that alone."""
    from orchestration.defs import dbt as dbt_defs
    from orchestration.lib.core import dbt_vars

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema landing")
        con.execute("create table landing.dbt_build (project_fingerprint varchar)")  # as an older version made it
        con.execute("insert into landing.dbt_build values (?)", [dbt_defs.project_fingerprint()])
        assert built_keying_vars(con) is None

        def plan(subset: bool = False):
            return dbt_defs.plan_dbt_build(con, manifest, full_refresh=False, subset=subset)

        before = plan()
        assert "--full-refresh" not in before.args and before.keying_vars == dbt_vars.keying_vars_digest()
        record_whole_build(con, before.fingerprint, before.keying_vars)
        assert built_keying_vars(con) == before.keying_vars
        assert "--full-refresh" not in plan(subset=True).args

        project = tmp_path / "dbt_project"
        project.mkdir()
        text = (dbt_vars.DBT_PROJECT_DIR / "dbt_project.yml").read_text()
        changed = text.replace("account_handle_aliases: {}", "account_handle_aliases: {old_name: new.name}")
        assert changed != text
        (project / "dbt_project.yml").write_text(changed)
        monkeypatch.setattr(dbt_defs, "keying_vars_digest", lambda: dbt_vars.keying_vars_digest(project))
        # a subset picked in the UI would key the new rows of a few marts anew and leave the old ones: refused
        with pytest.raises(
            dg.Failure, match=r"a var that keys or shapes rows changed .*account_handle_aliases.* under the old"
        ):
            plan(subset=True)
        after = plan()
        assert "--full-refresh" in after.args and "a dbt var that keys or shapes rows changed" in after.reason
        # should that build fail and the var be changed back, the refresh is still due: rows may carry new keys
        monkeypatch.setattr(dbt_defs, "keying_vars_digest", dbt_vars.keying_vars_digest)
        again = plan()
        assert "--full-refresh" in again.args and "a full refresh is pending" in again.reason
        monkeypatch.setattr(dbt_defs, "keying_vars_digest", lambda: dbt_vars.keying_vars_digest(project))
        dbt_defs.finish_dbt_build(con, after)
        assert built_keying_vars(con) == after.keying_vars != before.keying_vars
        assert "--full-refresh" not in plan().args  # done once
        assert "--full-refresh" not in plan(subset=True).args  # and a subset may be built again
