"""dbt's build in a worker process (lib/core/dbt_worker.py): the same results as a build in this process, and a
worker that dies, is interrupted or is not needed leaves nothing running."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from orchestration.lib.core import dbt_worker
from orchestration.lib.core.dbt_invocation import BuildOutcome, invoke_dbt
from tests.studio_fixtures import drop, land, new_paths, studio_csv

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
NOON = datetime(2025, 3, 5, 12, 0)
# a view that builds, its generic tests that pass, and a singular test that also reads a mart this warehouse does
# not have yet: an error
ARGS = ["build", "--select", "stg_studio__overview", "--no-write-json"]
RECONCILE = "test.tiktok_warehouse.assert_overview_video_views_reconcile_with_staging"


def _landed(tmp_path):
    paths = new_paths(tmp_path)
    rows = [["March 1", "10", "1", "1", "0", "0"], ["March 2", "20", "2", "2", "1", "0"]]
    drop(paths, "a/Overview.csv", studio_csv(OVERVIEW, rows), NOON)
    land(paths)
    return paths


def _drain(results) -> tuple[list[dict], BuildOutcome]:
    events = []
    while True:
        try:
            events.append(next(results))
        except StopIteration as end:
            return events, end.value


def test_a_build_in_the_worker_streams_each_result_and_ends_as_the_same_build_here(tmp_path, dbt_manifest):
    paths = _landed(tmp_path)
    here = BuildOutcome.of(invoke_dbt(paths.root, ARGS, tmp_path / "here", quiet=True))

    worker = dbt_worker.DbtWorker()
    events, there = _drain(worker.build(paths.root, ARGS, tmp_path / "there", {}))
    assert not worker.process.is_alive(), "one build, then the worker is gone (and its lock on the warehouse)"
    assert there == here
    assert there.statuses.pop("model.tiktok_warehouse.stg_studio__overview") == "success"
    assert there.statuses.pop(RECONCILE) == "error"
    assert set(there.statuses.values()) == {"pass"} and len(there.statuses) == 3, "the view's generic tests"
    assert not there.success and there.exception is None, "a failed node, not a failed command"
    failed = here.failed_nodes(passing=("success", "pass", "warn"))
    assert len(failed) == 1 and failed[0].startswith(f"{RECONCILE}: error ")
    assert "fct_account_overview_daily" in failed[0], "dbt's message names what is missing"
    # each node's result came back as dbt's event, in the order dbt finished them
    finished = [event["data"]["node_info"]["unique_id"] for event in events]
    assert sorted(finished) == sorted(here.statuses) and len(finished) == len(set(finished))
    assert {event["info"]["name"] for event in events} <= {"LogModelResult", "LogTestResult"}
    assert (tmp_path / "there" / "run_results.json").is_file(), "written as the Dagster process writes it"
    with duckdb.connect(str(paths.warehouse)) as con:  # released: this process can write it again
        assert con.execute("select count(*) from staging.stg_studio__overview").fetchone() == (2,)


def test_closing_the_results_early_interrupts_the_build_and_waits_for_the_worker(tmp_path, dbt_manifest):
    paths = _landed(tmp_path)
    worker = dbt_worker.DbtWorker()
    results = worker.build(paths.root, ["build", "--exclude-resource-type", "unit_test"], tmp_path / "t", {})
    first = next(results)  # dbt is building
    assert first["info"]["name"] in ("LogModelResult", "LogTestResult")
    results.close()  # the step stops (Ctrl-C, a run terminated in the UI)
    assert not worker.process.is_alive()
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("create table after_the_interrupt as select 1 as one")  # nobody else writes it


def test_a_worker_that_died_fails_its_build_saying_so(tmp_path):
    worker = dbt_worker.DbtWorker()
    worker.process.kill()
    worker.process.join()
    with pytest.raises(dbt_worker.WorkerLost, match=r"ended \(exit code -9\) before its build finished"):
        _drain(worker.build(tmp_path, ["build"], tmp_path, {}))


def test_start_take_and_discard(monkeypatch):
    monkeypatch.setattr(dbt_worker, "_pending", None)
    monkeypatch.setattr(dbt_worker, "spawn_worker", False)  # as the test suite runs the pipeline (conftest.py)
    assert dbt_worker.start() is False and dbt_worker.take() is None

    monkeypatch.setattr(dbt_worker, "spawn_worker", True)  # as `python -m orchestration run` does
    assert dbt_worker.start() is True
    waiting = dbt_worker._pending
    assert dbt_worker.start() is True and dbt_worker._pending is waiting, "one worker per run"
    assert dbt_worker.take() is waiting and dbt_worker.take() is None, "handed out once"
    waiting.stop()
    assert not waiting.process.is_alive()
    assert not dbt_worker._scratch(waiting.process.pid).exists(), "its warm-up's scratch folder goes with it"

    dbt_worker.start()
    unused = dbt_worker._pending
    dbt_worker.discard()  # a run with nothing to build
    assert dbt_worker._pending is None and not unused.process.is_alive()

    dbt_worker.start()
    dead = dbt_worker._pending
    dead.process.kill()
    dead.process.join()
    assert dbt_worker.take() is None, "a dead worker is not handed out: the step builds in its own process"
