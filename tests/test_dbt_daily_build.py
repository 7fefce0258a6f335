"""The daily job's dbt step builds what the new files touch (defs/dbt.py): nothing when nothing landed, the
Studio video models for a new Content file (no LIVE or API model), and marts it did not touch still reach
publishing; the result equals a full refresh byte for byte."""

from __future__ import annotations

import json
from datetime import date, datetime

import dagster as dg
import duckdb

from orchestration.cli import run_pipeline
from orchestration.lib.core.dbt_manifest import manifest_path, project_fingerprint
from orchestration.lib.core.dbt_selection import changed_sources, clear_changed_sources
from orchestration.lib.core.warehouse import clear_pending_min_date, pending_min_date
from orchestration.lib.studio import landing
from tests.studio_fixtures import drop, new_paths, studio_csv, studio_zip
from tests.test_end_to_end import (
    CONTENT,
    A,
    B,
    C,
    _drop_fixture,
    _published_digests,
    _video,
    pipeline_env,  # noqa: F401 (the fixture)
)
from tests.test_landing import OVERVIEW, WHEN

LAYERS = ("staging", "intermediate", "marts")  # the dbt step's asset key prefixes
DIM_ACCOUNTS_TESTS = (  # models/marts/_marts__models.yml
    "unique_dim_accounts_account_handle",
    "not_null_dim_accounts_account_handle",
    "not_null_dim_accounts_known_from",
    "accepted_values_dim_accounts_known_from__account_exports__live_backstage",
    "accepted_range_dim_accounts_latest_followers__0",
    "accepted_range_dim_accounts_videos_seen__0",
    "accepted_range_dim_accounts_documents_loaded__0",
    "accepted_range_dim_accounts_documents_quarantined__0",
)


def _dbt_outputs(result) -> dict[str, dict]:
    """Each dbt asset materialized by the run: its metadata (`rebuilt: False` when the build did not touch it)."""
    outputs = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.step_key == "dbt_models":
            materialization = event.event_specific_data.materialization
            outputs[materialization.asset_key.to_user_string()] = {
                k: v.value for k, v in materialization.metadata.items()
            }
    return outputs


def _dbt_checks(result) -> set[str]:
    return {
        e.event_specific_data.check_name
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.step_key == "dbt_models"
    }


def _ran_by_dbt_and_batched(paths) -> dict[str, list[str]]:
    """The last dbt step's nodes dbt ran (run_results.json) and its tests run as one statement per model
    (batched_tests.json), by name, and which of those failed."""
    target = paths.warehouse.parent / "dbt_target"
    by_dbt, batched = (
        json.loads((target / name).read_text())["results"] for name in ("run_results.json", "batched_tests.json")
    )
    return {
        "dbt": [r["unique_id"].split(".")[2] for r in by_dbt],
        "batched": sorted(r["unique_id"].split(".")[2] for r in batched),
        "failed": [r["unique_id"].split(".")[2] for r in batched if r["status"] == "fail"],
    }


def test_each_run_builds_what_its_files_touch_and_ends_where_a_full_refresh_does(pipeline_env, capsys, monkeypatch):  # noqa: F811
    from orchestration.lib.marts import quality_worker

    discarded = []  # great-expectations' worker, by a dbt step that built nothing (none here: spawn_worker is off)
    monkeypatch.setattr(quality_worker, "discard", lambda: discarded.append(True))
    paths = pipeline_env
    _drop_fixture(paths)
    first = run_pipeline(paths)
    assert first.success and not discarded
    whole = _dbt_outputs(first)
    assert "marts/fct_live_sessions" in whole and not any(m.get("rebuilt") is False for m in whole.values())
    # dbt's run_results.json, written by the step (dbt writes no artifacts: its manifest.json would cost ~0.3 s)
    target = paths.warehouse.parent / "dbt_target"
    ran = json.loads((target / "run_results.json").read_text())["results"]
    built_models = {key for key in whole if key.split("/")[0] in LAYERS}
    assert {r["unique_id"].split(".")[-1] for r in ran if r["unique_id"].startswith("model.")} == {
        key.split("/")[1] for key in built_models
    }
    assert all(r["status"] in ("success", "pass") for r in ran) and not (target / "manifest.json").exists()
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("select project_fingerprint from landing.dbt_build").fetchall() == [(project_fingerprint(),)]
        assert con.execute("select count(*) from landing.pending_sources").fetchone() == (0,)

    # nothing new: no model is built, no dbt test runs, every mart still reaches publishing unchanged
    published = _published_digests(paths)
    capsys.readouterr()
    nothing = run_pipeline(paths)
    assert nothing.success and discarded == [True]
    # the terminal: one line for the blocking checks without a result, not one warning each (defs/console.py)
    told = [line for line in capsys.readouterr().out.splitlines() if "blocking asset check(s)" in line]
    assert len(told) == 1 and told[0].endswith("of dbt_models had no result this run (their models were not rebuilt)")
    assert int(told[0].split()[0]) > 0
    outputs = _dbt_outputs(nothing)
    assert outputs and all(
        m == {"rebuilt": False, "why": "no raw table it reads changed since its last build"} for m in outputs.values()
    )
    assert {key.removeprefix("marts/") for key in outputs} == {
        k.removeprefix("marts/") for k in whole if k.startswith("marts/")
    }
    assert not _dbt_checks(nothing)
    assert _published_digests(paths) == published

    # one more Content snapshot (6 January): the video models are built, LIVE and API ones are not
    drop(paths, "Content_acct (3).zip", studio_zip({"Content.csv": studio_csv(CONTENT, [
        _video("January 6", A, "December 27", 36, 5, 2, 560),
        _video("January 6", B, "December 1", 49, 6, 7, 1180),
        _video("January 6", C, "January 4", 9, 1, 0, 90),
    ])}, datetime(2026, 1, 6, 10)))  # fmt: skip
    content = run_pipeline(paths)
    assert content.success and discarded == [True]
    outputs = _dbt_outputs(content)
    built = {key for key, meta in outputs.items() if meta.get("rebuilt") is not False}
    assert {
        "intermediate/int_video_snapshots__unioned",
        "marts/fct_video_engagement_daily",
        "marts/rpt_trending_videos_7d",
        "marts/rpt_video_outliers_daily",
        "marts/dim_videos",
        "marts/dim_accounts",
        "marts/rpt_account_freshness",  # a new document
    } <= built
    untouched = {key for key, meta in outputs.items() if meta.get("rebuilt") is False}
    assert {
        "marts/fct_live_sessions",
        "marts/fct_video_business_metrics_daily",
        "marts/fct_follower_growth_daily",
    } <= untouched
    assert not any("live" in key or "tiktok_api" in key for key in built)
    # the views the new rows reach are kept as they are (a view holds a query: it reads the new rows), and dbt ran
    # no view; their tests ran on the new rows
    assert not {"staging/stg_studio__content", "intermediate/int_video_snapshots__with_previous"} & set(outputs)
    ran = _ran_by_dbt_and_batched(paths)
    assert "int_video_snapshots__unioned" in ran["dbt"] and not {"stg_studio__content", "stg_studio__documents"} & set(
        ran["dbt"]
    )
    checks = _dbt_checks(content)
    assert "unique_combination_fct_video_engagement_daily_account_handle__video_id__metric_date" in checks
    assert {
        "not_null_stg_studio__content_video_id",
        "unique_combination_stg_studio__content_account_handle__video_id__metric_date",
        "unique_combination_int_video_snapshots__with_previous_account_handle__video_id__metric_date",
    } <= checks
    # no LIVE model's own test: only the 5 LIVE marts' relationships tests to the rebuilt dim_accounts, which read it
    live = [check for check in checks if any(layer in check for layer in ("stg_live", "int_live", "fct_live"))]
    assert len(live) == 5 and all(c.startswith("relationships_fct_live") and "ref_dim_accounts" in c for c in live)
    # every test of a model that reads a model the build rebuilt reports its check, whether dbt ran it or it ran
    # as one statement per model: also a relationships test from an untouched fact to the rebuilt dim_videos
    manifest = json.loads(manifest_path().read_text())
    rebuilt = {f"model.tiktok_warehouse.{key.split('/')[1]}" for key in built}
    reading = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("attached_node") or "").startswith("model.")
        and rebuilt & set(node["depends_on"]["nodes"])
    }
    assert "relationships_fct_video_business_metrics_daily_video_id__video_id__ref_dim_videos_" in reading
    assert reading <= checks, sorted(reading - checks)[:5]
    with duckdb.connect(str(paths.analytics_db), read_only=True) as con:
        assert con.execute(
            f"select views_gained from fct_video_engagement_daily where video_id = '{C}' and metric_date = '2026-01-06'"
        ).fetchall() == [(40,)]  # 90 - 50 on 4 January

    # a full refresh of the same warehouse publishes the very same bytes
    narrowed = _published_digests(paths)
    assert run_pipeline(paths, full_refresh=True).success
    assert _published_digests(paths) == narrowed


def test_a_crash_once_the_receipts_are_recorded_leaves_their_days_to_the_next_build(tmp_path, monkeypatch):
    """What the next build recomputes is written before the receipts (land_inbox's on_loaded): after a crash once
    the manifest named a new file (here, while the scan is remembered), the next run does not land that file again,
    so its day and its raw table must already wait for the build. The landing asset alone, as Dagster runs it."""
    from orchestration.defs import studio
    from orchestration.defs.resources import DataDirResource

    paths = new_paths(tmp_path)

    def overview(day: str, views: int) -> bytes:
        return studio_zip({"Overview.csv": studio_csv(OVERVIEW, [[day, str(views), "0", "0", "0", "0"]])}, WHEN)

    def land() -> bool:
        resources = {"data_dir": DataDirResource(data_dir=str(paths.root))}
        return dg.materialize([studio.inbox, studio.studio_exports], resources=resources, raise_on_error=False).success

    drop(paths, "Overview_2026-04-01_1777023476_acct.zip", overview("April 1", 11))
    assert land()
    with duckdb.connect(str(paths.warehouse)) as con:  # as a successful build leaves them
        assert (pending_min_date(con), changed_sources(con)) == (
            date(2026, 4, 1),
            {"documents", "row_flags", "studio_overview", "archive_manifest"},
        )
        clear_pending_min_date(con)
        clear_changed_sources(con, changed_sources(con))
    drop(paths, "Overview_2026-04-02_1777023476_acct.zip", overview("April 2", 22))

    def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(landing, "remember_scan", crash)
    assert not land()
    assert [line["inbox_path"] for line in map(json.loads, paths.manifest.read_text().splitlines())] == [
        "Overview_2026-04-01_1777023476_acct.zip",
        "Overview_2026-04-02_1777023476_acct.zip",
    ]  # recorded: the next run does not land the file again
    with duckdb.connect(str(paths.warehouse)) as con:
        assert (pending_min_date(con), changed_sources(con)) == (
            date(2026, 4, 2),
            {"documents", "row_flags", "studio_overview", "archive_manifest"},
        )


def test_a_selection_of_the_jobs_assets_builds_only_it_and_is_refused_while_a_full_refresh_is_pending(
    pipeline_env,  # noqa: F811
    monkeypatch,
):
    """As Dagster runs assets picked in the UI: dbt builds the selected model and its checks, nothing else. While a
    full refresh is pending, the dbt step fails with the reason instead, builds nothing, keeps the request for the
    whole job, and lets go of the dbt worker the run would have used."""
    from orchestration.definitions import defs
    from orchestration.defs import dbt as dbt_defs
    from orchestration.defs.studio import ARCHIVE
    from orchestration.lib.core import dbt_worker
    from orchestration.lib.core.dbt_selection import built_fingerprint, full_refresh_requested, request_full_refresh
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.marts import quality_worker

    paths = pipeline_env
    job = defs().resolve_job_def("daily_pipeline")
    dim_accounts = dg.AssetKey(["marts", "dim_accounts"])

    def run_selection(keys):
        with dg.DagsterInstance.ephemeral() as instance:
            return job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=keys)

    with connect(paths.warehouse):
        pass  # the raw tables, empty: the whole dbt step builds every model on them, as a first run does
    every_model = [key for key in defs().resolve_asset_graph().get_all_asset_keys() if key.path[0] in LAYERS]
    whole = run_selection(every_model)  # every asset and check of the dbt step: not a subset
    assert whole.success and len(_dbt_outputs(whole)) == len(every_model) == 53
    with connect(paths.warehouse) as con:  # recorded by a whole build only, never by a subset's
        assert built_fingerprint(con) == project_fingerprint()
    # a row of an unselected fact whose account dim_accounts lacks: its relationships test reads the selected model
    with connect(paths.warehouse) as con:
        con.execute("insert into marts.fct_video_engagement_daily (account_handle) values ('ghost')")
    # picked with the landing's assets but none of the models between: Dagster ran dbt first, from the raw tables
    # as they were, and the run succeeded (review). Refused before anything is built.
    landing = defs().resolve_assets_def(ARCHIVE).keys
    out_of_order = run_selection([*landing, dim_accounts])
    (failure,) = out_of_order.get_step_failure_events()
    assert failure.step_key == "dbt_models" and not _dbt_outputs(out_of_order)
    assert "none of which reads them directly" in failure.step_failure_data.user_failure_data.description
    stg_overview = dg.AssetKey(["staging", "stg_studio__overview"])  # reads raw/studio_overview: landing first
    assert run_selection([*landing, stg_overview]).success

    ge_workers = []  # under `make ui` a GE worker started for a run that does not validate outlived the run (review)
    monkeypatch.setattr(quality_worker, "start", lambda: ge_workers.append(True))
    picked = run_selection([dim_accounts])
    assert ge_workers == [], "no great-expectations check in this run: no GE worker"

    assert set(_dbt_outputs(picked)) == {"marts/dim_accounts"}
    evaluations_kind = "ASSET_CHECK_EVALUATION"
    evaluations = [e.event_specific_data for e in picked.all_events if e.event_type_value == evaluations_kind]
    assert {e.asset_key for e in evaluations} == {dim_accounts} and all(e.passed for e in evaluations)
    assert sorted(e.check_name for e in evaluations) == sorted(DIM_ACCOUNTS_TESTS)
    # as dbt's eager selection runs them: its eight tests and the 18 relationships tests reading it (5 of them from the
    # LIVE marts), as one statement per model, not as dbt nodes (dbt built the model alone); the ghost's fails the
    # step, though no check is selected
    ran = _ran_by_dbt_and_batched(paths)
    assert ran["dbt"] == ["dim_accounts"]
    relationships = {name for name in ran["batched"] if name.startswith("relationships_")}
    assert set(ran["batched"]) - relationships == set(DIM_ACCOUNTS_TESTS) and len(relationships) == 18
    assert all(name.endswith("__ref_dim_accounts_") for name in relationships)
    assert ran["failed"] == [
        "relationships_fct_video_engagement_daily_account_handle__account_handle__ref_dim_accounts_"
    ]
    assert not picked.success
    (failure,) = picked.get_step_failure_events()
    assert ran["failed"][0] in str(failure.step_failure_data.error)

    # a check alone (a re-execution of a failed check): its test runs, here on a handle twice, and fails the step
    with connect(paths.warehouse) as con:
        con.execute("delete from marts.fct_video_engagement_daily where account_handle = 'ghost'")
        con.execute("insert into marts.dim_accounts (account_handle) values ('twice'), ('twice')")
    unique = dg.AssetCheckKey(dim_accounts, "unique_dim_accounts_account_handle")
    with dg.DagsterInstance.ephemeral() as instance:
        rechecked = job.get_subset(asset_selection=set(), asset_check_selection={unique}).execute_in_process(
            instance=instance, raise_on_error=False
        )
    assert not rechecked.success and not _dbt_outputs(rechecked)
    (evaluation,) = [e.event_specific_data for e in rechecked.all_events if e.event_type_value == evaluations_kind]
    assert (evaluation.check_name, evaluation.passed) == ("unique_dim_accounts_account_handle", False)
    assert _ran_by_dbt_and_batched(paths) == {"dbt": [], "batched": [unique.name], "failed": [unique.name]}
    (failure,) = rechecked.get_step_failure_events()
    assert "test.tiktok_warehouse.unique_dim_accounts_account_handle" in str(failure.step_failure_data.error)
    with connect(paths.warehouse) as con:
        con.execute("delete from marts.dim_accounts where account_handle = 'twice'")

    with connect(paths.warehouse) as con:
        request_full_refresh(con)
        relation = "select table_oid from duckdb_tables() where schema_name = 'marts' and table_name = 'dim_accounts'"
        built = con.execute(relation).fetchall()  # a new oid once the table is built again
    discarded = []
    monkeypatch.setattr(dbt_worker, "discard", lambda: discarded.append(True))
    refused = run_selection([dim_accounts])

    assert not refused.success
    (failure,) = refused.get_step_failure_events()
    assert failure.step_key == "dbt_models"
    assert failure.step_failure_data.user_failure_data.description == dbt_defs.SUBSET_REFUSED_REFRESH_PENDING
    assert discarded == [True] and not _dbt_outputs(refused)
    with duckdb.connect(str(paths.warehouse)) as con:  # (full_refresh_requested creates its table if missing)
        assert full_refresh_requested(con)
        assert con.execute(relation).fetchall() == built

    # every model, without the landing, while a replay has not finished: refused too (its raw tables hold part of the
    # history, and the pending full refresh would publish it); nothing is built
    from datetime import datetime

    from orchestration.lib.core.replay_state import mark_replay_started

    with connect(paths.warehouse) as con:
        mark_replay_started(con, datetime(2026, 1, 5, 6, 30))
    refused = run_selection(every_model)
    assert not refused.success and not _dbt_outputs(refused)
    (failure,) = refused.get_step_failure_events()
    assert failure.step_failure_data.user_failure_data.description.startswith(
        "the replay of the archive started 2026-01-05 06:30:00 UTC did not finish: its raw tables hold part of the "
        "history. Run the daily job"
    )
    with duckdb.connect(str(paths.warehouse)) as con:
        assert con.execute(relation).fetchall() == built


def test_a_run_validates_the_published_marts_when_its_great_expectations_checks_are_selected():
    from types import SimpleNamespace

    from orchestration.defs.resources import validates_published_marts

    def run_with(assets, checks):
        return SimpleNamespace(run=SimpleNamespace(asset_selection=assets, asset_check_selection=checks))

    mart, published = dg.AssetKey(["marts", "dim_accounts"]), dg.AssetKey(["published", "dim_accounts"])
    ge = dg.AssetCheckKey(published, "great_expectations")
    dbt_test = dg.AssetCheckKey(mart, "unique_dim_accounts_account_handle")
    assert validates_published_marts(run_with(None, None))  # the daily job: every asset and check
    assert validates_published_marts(run_with(frozenset(), None))  # the same, run in process
    assert validates_published_marts(run_with({mart, published}, None))  # assets picked with their checks
    assert not validates_published_marts(run_with({mart}, None))
    assert validates_published_marts(run_with(set(), {ge, dbt_test}))  # checks picked
    assert not validates_published_marts(run_with({mart}, {dbt_test})) and not validates_published_marts(
        run_with(None, set())
    )


def test_a_carried_over_failure_names_the_run_its_test_ran_in():
    """Carried from a run that had itself carried it, it named that run: a chain of hops back to the real result
    (review). Only failed checks of untouched marts whose test this build does not run are carried."""
    from types import SimpleNamespace

    from dagster_dbt.asset_utils import DAGSTER_DBT_UNIQUE_ID_METADATA_KEY

    from orchestration.defs.dbt_checks import carried_over_failures

    mart, other = dg.AssetKey(["marts", "a"]), dg.AssetKey(["marts", "b"])
    keys = {
        dg.AssetCheckKey(mart, "warned"): ("test.x.warned", False, {"carried_over_from_run": "run-1"}),
        dg.AssetCheckKey(mart, "fine"): ("test.x.fine", True, {}),
        dg.AssetCheckKey(mart, "rerun"): ("test.x.rerun", False, {}),  # this build runs it
        dg.AssetCheckKey(other, "rebuilt"): ("test.x.rebuilt", False, {}),  # its mart is rebuilt
    }

    def summary(key):
        unique_id, passed, metadata = keys[key]
        evaluation = SimpleNamespace(passed=passed, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)
        return SimpleNamespace(
            last_completed_check_execution_record=SimpleNamespace(run_id="run-2", evaluation=evaluation)
        )

    context = SimpleNamespace(
        selected_asset_check_keys=set(keys),
        assets_def=SimpleNamespace(
            get_spec_for_check_key=lambda key: SimpleNamespace(
                metadata={DAGSTER_DBT_UNIQUE_ID_METADATA_KEY: keys[key][0]}
            )
        ),
        instance=SimpleNamespace(
            event_log_storage=SimpleNamespace(get_asset_check_summary_records=lambda ks: {k: summary(k) for k in ks})
        ),
    )
    (carried,) = carried_over_failures(context, {mart}, {"test.x.rerun"})
    assert (carried.check_name, carried.passed, carried.metadata["carried_over_from_run"].value) == (
        "warned",
        False,
        "run-1",
    )
