"""The API pull asset in Dagster: day × account partitions, the daily mode, no-op without config."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.defs.resources import DataDirResource
from orchestration.defs.tiktok_api import ACCOUNTS_PARTITION_NAME, CHECK_NAME, PULLS, tiktok_api_pulls

from .conftest import setup_business, setup_display


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as value:
        yield value


def _materialize(paths, instance, partition_key=None):
    return dg.materialize(
        [tiktok_api_pulls],
        partition_key=partition_key,
        resources={"data_dir": DataDirResource(data_dir=str(paths.root))},
        instance=instance,
        raise_on_error=False,
    )


def _check(result):
    (evaluation,) = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert evaluation.check_name == CHECK_NAME
    return evaluation


def _today(timezone: str) -> str:
    return datetime.now(ZoneInfo(timezone)).date().isoformat()


# The time zones of the accounts these tests pull (tests/api/conftest.py): a test comparing the day its pull took
# with `_today` fails when one of their midnights falls between the two.
ACCOUNT_ZONES = ("Europe/Berlin", "America/Los_Angeles")
MIDNIGHT_MARGIN = timedelta(seconds=90)  # longer than such a test takes (the repull job's ~30 s, on a slow host)


def _until_past_midnight(now: datetime, margin: timedelta = MIDNIGHT_MARGIN) -> float:
    """Seconds to wait (0 if none) so that no midnight of `ACCOUNT_ZONES` falls within `margin` after."""
    for zone in ACCOUNT_ZONES:
        local = now.astimezone(ZoneInfo(zone))
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), ZoneInfo(zone))
        if midnight - local <= margin:
            return (midnight - local).total_seconds() + 1
    return 0.0


@pytest.fixture
def same_day_throughout():
    """Starts the test after a midnight of the accounts' zones that would fall during it (a wait of at most
    `MIDNIGHT_MARGIN`, in ~0.2 % of runs)."""
    time.sleep(_until_past_midnight(datetime.now(UTC)))


def test_a_test_starting_just_before_an_accounts_midnight_waits_until_after_it():
    berlin, los_angeles = ZoneInfo("Europe/Berlin"), ZoneInfo("America/Los_Angeles")
    assert _until_past_midnight(datetime(2026, 12, 4, 23, 59, 30, tzinfo=berlin)) == 31  # 30 s to Berlin's midnight
    assert _until_past_midnight(datetime(2026, 12, 4, 23, 58, 30, tzinfo=los_angeles)) == 91
    assert _until_past_midnight(datetime(2026, 12, 4, 23, 58, 29, tzinfo=los_angeles)) == 0  # 91 s: no wait
    assert _until_past_midnight(datetime(2026, 12, 4, 12, 0, tzinfo=UTC)) == 0
    assert _until_past_midnight(datetime(2026, 7, 4, 21, 59, 0, tzinfo=UTC)) == 61  # Berlin's summer time: UTC+2


def test_without_accounts_yml_the_daily_run_does_nothing_and_passes(fake, paths, instance):
    result = _materialize(paths, instance)
    assert result.success
    assert fake.api_requests() == []
    evaluation = _check(result)
    assert evaluation.passed and "no accounts.yml" in evaluation.description


def test_after_a_stop_signal_the_daily_pulls_make_no_call(fake, paths, instance):
    """Ctrl-C in the landing's DuckDB query leaves DuckDB's error, not Dagster's interrupt, so Dagster's executor ran
    this other root step on and pulled from TikTok after the user stopped the run (review)."""
    import os
    import signal

    from orchestration.lib.core import stop_signals

    setup_display(fake, paths)
    quiet = signal.signal(signal.SIGINT, lambda *_: None)  # recorded by the wakeup fd, as under Dagster's handler
    try:
        with stop_signals.recording() as record:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            result = _materialize(paths, instance)
    finally:
        signal.signal(signal.SIGINT, quiet)
    assert record.first() == signal.SIGINT and not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.event_specific_data.error.cls_name == "DagsterExecutionInterruptedError"
    assert fake.api_requests() == []
    assert stop_signals.stop_of(result, record).exit_code == 130  # told as a stop (cli.py)


def test_a_malformed_accounts_yml_fails_the_check_but_not_the_daily_run(fake, paths, instance):
    (paths.root / "accounts.yml").write_text("accounts:\n  - handle: x\n    api: display\n    zone: UTC\n")
    result = _materialize(paths, instance)
    assert result.success  # the Studio part of the daily job goes on
    evaluation = _check(result)
    assert not evaluation.passed and "line 4" in evaluation.description


def test_the_daily_run_pulls_every_account_and_marks_its_partition(fake, paths, instance, same_day_throughout):
    # an expired access token: the run refreshes it, and no token reaches the run's events
    setup_display(fake, paths, obtained_at=datetime.now(UTC) - timedelta(days=2))
    result = _materialize(paths, instance)
    events = "\n".join(str(event) for event in result.all_events)
    assert fake.issued_by_refresh and not any(t in events for pair in fake.issued_by_refresh for t in pair)
    assert result.success and _check(result).passed
    assert instance.get_dynamic_partitions(ACCOUNTS_PARTITION_NAME) == ["techcreator"]
    partition = dg.MultiPartitionKey({"day": _today("Europe/Berlin"), "account": "techcreator"})
    assert instance.get_materialized_partitions(PULLS) == {partition}
    pulls = result.asset_materializations_for_node("tiktok_api_pulls")
    metadata = next(m.metadata for m in pulls if m.asset_key == PULLS and m.partition is None)
    assert metadata["accounts_published"].value == 1


def test_one_failing_account_fails_the_check_and_says_why(fake, paths, instance):
    setup_display(fake, paths, obtained_at=datetime.now(UTC))
    fake.add_fault("user_info", "envelope")
    result = _materialize(paths, instance)
    assert result.success
    evaluation = _check(result)
    assert not evaluation.passed and "@techcreator" in evaluation.description
    assert "unexpected envelope" in json.dumps(evaluation.metadata["failed"].value)


def test_todays_partition_repulls_one_account(fake, paths, instance, same_day_throughout):
    setup_business(fake, paths, obtained_at=datetime.now(UTC))
    instance.add_dynamic_partitions(ACCOUNTS_PARTITION_NAME, ["shop"])
    key = dg.MultiPartitionKey({"day": _today("America/Los_Angeles"), "account": "shop"})
    result = _materialize(paths, instance, key)
    assert result.success
    rows = {
        m.asset_key.path[-1]: m.metadata["rows_loaded"].value
        for m in result.asset_materializations_for_node("tiktok_api_pulls")
        if "rows_loaded" in m.metadata
    }
    assert rows["api_video_snapshots"] == 25 and rows["api_video_traffic_sources"] == 75


def test_a_past_partition_of_a_snapshot_endpoint_fails_clearly(fake, paths, instance):
    setup_display(fake, paths, obtained_at=datetime.now(UTC))
    instance.add_dynamic_partitions(ACCOUNTS_PARTITION_NAME, ["techcreator"])
    past = (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(days=3)).date().isoformat()
    result = _materialize(paths, instance, dg.MultiPartitionKey({"day": past, "account": "techcreator"}))
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "cannot fill" in failure.event_specific_data.error.message
    assert fake.api_requests() == []


def test_a_past_partition_of_a_business_account_backfills_daily_metrics(fake, paths, instance):
    setup_business(fake, paths, obtained_at=datetime.now(UTC))
    day = (datetime.now(ZoneInfo("UTC")) - timedelta(days=10)).date()
    fake.business_metrics = [{"date": day.isoformat(), "video_views": 42, "followers_count": 2000}]
    instance.add_dynamic_partitions(ACCOUNTS_PARTITION_NAME, ["shop"])
    result = _materialize(paths, instance, dg.MultiPartitionKey({"day": day.isoformat(), "account": "shop"}))
    assert result.success
    assert [s.endpoint for s in fake.api_requests()] == ["business_get"]


def test_definitions_load_and_api_tables_feed_the_marts(dbt_manifest):
    from orchestration.definitions import defs

    definitions = defs()
    repull = {
        k.to_user_string() for k in definitions.resolve_job_def("tiktok_api_repull").asset_layer.selected_asset_keys
    }
    # a re-pull lands the API tables and rebuilds what depends on them, but never re-lands Studio files
    assert {"raw/api_pulls", "raw/api_video_snapshots", "marts/fct_video_engagement_daily"} <= repull
    assert {"published/fct_video_engagement_daily", "published/rpt_trending_videos_7d"} <= repull
    assert not {"raw/inbox", "raw/archive_manifest", "raw/studio_content"} & repull
    graph = definitions.resolve_asset_graph()
    assert PULLS in graph.get_all_asset_keys()
    for mart, table in [
        ("fct_video_engagement_daily", "api_video_snapshots"),
        ("fct_follower_growth_daily", "api_user_snapshots"),
        ("fct_follower_growth_daily", "api_business_daily"),
        ("fct_video_traffic_sources_daily", "api_video_traffic_sources"),
        ("dim_videos", "api_pulls"),
    ]:
        upstream = set(graph.upstream_key_iterator(dg.AssetKey(["published", mart])))
        assert dg.AssetKey(["raw", table]) in upstream, (mart, table)


def test_the_accounts_sensor_adds_partitions_without_pulling(fake, paths, instance):
    from orchestration.defs.tiktok_api import api_accounts_sensor

    assert isinstance(
        api_accounts_sensor(
            dg.build_sensor_context(
                instance=instance, resources={"data_dir": DataDirResource(data_dir=str(paths.root))}
            )
        ),
        dg.SkipReason,
    )
    setup_display(fake, paths, obtained_at=datetime.now(UTC))
    result = api_accounts_sensor(
        dg.build_sensor_context(instance=instance, resources={"data_dir": DataDirResource(data_dir=str(paths.root))})
    )
    assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["techcreator"]]
    assert fake.api_requests() == []


def test_the_repull_job_builds_what_depends_on_the_pull_and_is_refused_while_a_full_refresh_is_due(
    fake, paths, instance, dbt_manifest, same_day_throughout
):
    """tiktok_api_repull selects the pull and what is downstream of it: its dbt step is a subset of the dbt assets
    (defs/dbt.py), which builds those models after a whole build made the rest, and fails with the reason while a
    full refresh of the whole project is due, after the pull itself landed."""
    from dagster._core.events import DagsterEventType

    from orchestration.cli import run_pipeline
    from orchestration.definitions import defs
    from orchestration.defs import dbt as dbt_defs
    from orchestration.lib.core.dbt_selection import request_full_refresh
    from orchestration.lib.core.warehouse import connect

    setup_business(fake, paths, obtained_at=datetime.now(UTC))
    assert run_pipeline(paths).success  # the daily job: pulls, then builds the whole project
    instance.add_dynamic_partitions(ACCOUNTS_PARTITION_NAME, ["shop"])
    key = dg.MultiPartitionKey({"day": _today("America/Los_Angeles"), "account": "shop"})
    job = defs().resolve_job_def("tiktok_api_repull")

    repulled = job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)
    assert repulled.success
    built = {m.asset_key for m in repulled.asset_materializations_for_node("dbt_models")}
    assert dg.AssetKey(["staging", "stg_tiktok_api__video_snapshots"]) in built
    assert dg.AssetKey(["staging", "stg_studio__content"]) not in built  # not downstream of the pull
    # every check the job planned for the dbt step has its result; the generic tests ran as one statement per model
    planned, evaluated = (
        {(e.asset_key, e.check_name) for e in [entry.dagster_event.event_specific_data for entry in
         instance.all_logs(repulled.run_id, of_type=kind) if entry.step_key == "dbt_models"]}
        for kind in (DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, DagsterEventType.ASSET_CHECK_EVALUATION)
    )  # fmt: skip
    assert len(planned) > 200 and evaluated == planned
    target = paths.warehouse.parent / "dbt_target"
    by_dbt, batched = (
        {r["unique_id"] for r in json.loads((target / name).read_text())["results"]}
        for name in ("run_results.json", "batched_tests.json")
    )
    assert len(batched) > 200 and not by_dbt & batched

    with connect(paths.warehouse) as con:
        request_full_refresh(con)
    refused = job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)
    assert not refused.success
    assert refused.asset_materializations_for_node("tiktok_api_pulls")  # the pull landed before dbt refused
    (failure,) = refused.get_step_failure_events()
    assert failure.step_key == "dbt_models"
    assert failure.step_failure_data.user_failure_data.description == dbt_defs.SUBSET_REFUSED_REFRESH_PENDING


def test_a_single_run_over_a_range_of_partitions_is_refused_not_taken_for_the_daily_run(fake, paths, instance):
    """Without a partition key the asset pulls every account for today (the daily job); a run over a range has no
    key either, so it must fail clearly rather than pull today's snapshots in place of the days asked for."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    setup_business(fake, paths, obtained_at=datetime.now(UTC))
    instance.add_dynamic_partitions(ACCOUNTS_PARTITION_NAME, ["shop"])
    first, last = (dg.MultiPartitionKey({"day": day, "account": "shop"}) for day in ("2026-03-01", "2026-03-02"))
    result = dg.materialize(
        [tiktok_api_pulls],
        resources={"data_dir": DataDirResource(data_dir=str(paths.root))},
        instance=instance,
        raise_on_error=False,
        tags={ASSET_PARTITION_RANGE_START_TAG: str(first), ASSET_PARTITION_RANGE_END_TAG: str(last)},
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "one (day, account) partition a run" in failure.step_failure_data.user_failure_data.description
    assert not fake.seen, "nothing was requested"
