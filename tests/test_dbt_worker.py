"""dbt's build in a worker process (lib/core/dbt_worker.py): the same results as a build in this process, and a
worker that dies, is interrupted or is not needed leaves nothing running."""

from __future__ import annotations

import json
import os
import signal
from datetime import datetime

import duckdb
import pytest

from orchestration.lib.core import dbt_worker
from orchestration.lib.core.dbt_batched_tests import batched_tests, run_batched_tests
from orchestration.lib.core.dbt_invocation import BuildOutcome, invoke_dbt
from orchestration.lib.core.dbt_vars import project_vars
from tests.studio_fixtures import drop, land, new_paths, studio_csv

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
NOON = datetime(2025, 3, 5, 12, 0)
# a view that builds, its generic tests that pass, and a singular test that also reads a mart this warehouse does
# not have yet: an error (its unit tests left out, as the daily job leaves them out)
ARGS = ["build", "--select", "stg_studio__overview", "--exclude-resource-type", "unit_test", "--no-write-json"]
RECONCILE = "test.tiktok_warehouse.assert_overview_video_views_reconcile_with_staging"


def _landed(tmp_path):
    paths = new_paths(tmp_path)
    rows = [["March 1", "10", "1", "1", "0", "0"], ["March 2", "20", "2", "2", "1", "0"]]
    drop(paths, "a/Overview.csv", studio_csv(OVERVIEW, rows), NOON)
    land(paths)
    return paths


def _drain(results, kinds: list | None = None) -> tuple[list, BuildOutcome]:
    """What a build in the worker sent (dbt's result events; with `kinds`, every (kind, payload) there), and its
    outcome."""
    events = []
    while True:
        try:
            kind, payload = next(results)
        except StopIteration as end:
            return events, end.value
        if kinds is None:
            assert kind == "event", "no batched tests were handed over"
            events.append(payload)
        else:
            kinds.append((kind, payload))


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
    # each node's result came back as dbt's event, once
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
    kind, first = next(results)  # dbt is building
    assert kind == "event" and first["info"]["name"] in ("LogModelResult", "LogTestResult")
    results.close()  # the step stops (Ctrl-C, a run terminated in the UI)
    assert worker.process.exitcode == 0, "dbt stopped on the interrupt (not killed after EXIT_WAIT_SECONDS)"
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("create table after_the_interrupt as select 1 as one")  # nobody else writes it


def test_an_interrupt_before_the_build_started_means_no_build(tmp_path, dbt_manifest):
    paths = _landed(tmp_path)
    worker = dbt_worker.DbtWorker()
    _wait_until_warmed_up(worker)
    os.kill(worker.process.pid, signal.SIGINT)  # Ctrl-C in the terminal while the landing runs
    results = worker.build(paths.root, ["build", "--exclude-resource-type", "unit_test"], tmp_path / "t", {})
    with pytest.raises(RuntimeError, match="interrupted before its build started"):
        next(results)
    assert worker.process.exitcode == 0
    with duckdb.connect(str(paths.warehouse)) as con:
        built = con.execute("select count(*) from duckdb_views() where schema_name = 'staging'").fetchone()
    assert built == (0,), "no model was built after the interrupt"


def test_a_worker_that_died_fails_its_build_saying_so(tmp_path):
    worker = dbt_worker.DbtWorker()
    worker.process.kill()
    worker.process.join()
    with pytest.raises(dbt_worker.WorkerLost, match=r"ended \(exit code -9\) before its build finished"):
        _drain(worker.build(tmp_path, ["build"], tmp_path, {}))


def _wait_until_warmed_up(worker: dbt_worker.DbtWorker) -> None:
    assert worker._results.poll(120) and worker._results.recv() == ("ready", None)
    worker.warmed_up = True  # as `stop` and `build` note it when they read it


def test_an_unused_worker_ends_by_itself_once_warmed_up_and_is_killed_before(monkeypatch):
    monkeypatch.setattr(dbt_worker, "STOP_WAIT_SECONDS", 60)  # a stalled host must not kill it before it ends
    warm = dbt_worker.DbtWorker()
    _wait_until_warmed_up(warm)
    warm.stop()
    assert warm.process.exitcode == 0, "it saw its pipe closed and ended (dbt's adapter left no semaphore)"
    assert not dbt_worker._scratch(warm.process.pid).exists(), "the scratch folder of its warm-up is gone"
    cold = dbt_worker.DbtWorker()  # still importing dbt
    cold.stop()
    assert cold.process.exitcode == -signal.SIGKILL


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

    dbt_worker.start()
    unused = dbt_worker._pending
    dbt_worker.discard()  # a run with nothing to build
    assert dbt_worker._pending is None and not unused.process.is_alive()

    dbt_worker.start()
    dead = dbt_worker._pending
    dead.process.kill()
    dead.process.join()
    assert dbt_worker.take() is None, "a dead worker is not handed out: the step builds in its own process"


def test_new_files_start_dbts_worker_and_great_expectations_one_only_when_the_landing_leaves_a_core_idle(monkeypatch):
    """A landing that finds new files starts dbt's worker. great-expectations' too when dbt's was spawned at launch
    (`python -m orchestration run`) and the drop is small enough to land in this process: the other core is idle;
    not on a drop the check workers take, nor when dbt's worker only starts now (a run launched otherwise), nor when
    nothing is new."""
    from orchestration.defs import studio
    from orchestration.lib.marts import quality_worker
    from orchestration.lib.studio import checking
    from orchestration.lib.studio.checking import WORKERS_FROM_FILES

    monkeypatch.setattr(checking, "WORKERS", 2)  # a 2-core machine's (a 1-core one lands every drop in process)
    started = []
    monkeypatch.setattr(dbt_worker, "start", lambda: started.append("dbt") or True)
    monkeypatch.setattr(quality_worker, "start", lambda: started.append("great_expectations"))
    for spawned_at_launch, new_files, expected in (
        (True, 0, []),
        (True, 1, ["dbt", "great_expectations"]),
        (True, WORKERS_FROM_FILES - 1, ["dbt", "great_expectations"]),
        (True, WORKERS_FROM_FILES, ["dbt"]),
        (False, 1, ["dbt"]),
    ):
        monkeypatch.setattr(dbt_worker, "waiting", lambda at_launch=spawned_at_launch: at_launch)
        started.clear()
        studio._warm_up_workers(new_files)
        assert started == expected, (spawned_at_launch, new_files)


def test_the_batched_tests_run_in_the_worker_after_their_model_and_count_as_after_the_build(tmp_path, dbt_manifest):
    paths = _landed(tmp_path)
    manifest = json.loads(dbt_manifest.read_text())
    overview = "model.tiktok_warehouse.stg_studio__overview"
    tests = [t for t in batched_tests(manifest, project_vars()).values() if t.model == overview]
    assert len(tests) == 3
    args = ["build", "--select", "stg_studio__overview", "--exclude", *(t.name for t in tests), "--no-write-json"]
    sent = []
    worker = dbt_worker.DbtWorker()
    _, outcome = _drain(worker.build(paths.root, args, tmp_path / "t", {}, (tests, {overview}, None)), sent)
    assert outcome.statuses[overview] == "success"
    kinds = [kind if kind == "tests" else payload["data"]["node_info"]["unique_id"] for kind, payload in sent]
    assert kinds.index(overview) < kinds.index("tests"), "Dagster hears of the model before its checks"
    streamed = {r.test.unique_id: (r.failures, r.status) for kind, part in sent if kind == "tests" for r in part}
    with duckdb.connect(str(paths.warehouse)) as con:
        after = {r.test.unique_id: (r.failures, r.status) for r in run_batched_tests(con, tests, None)}
    assert streamed == after and set(streamed) == {t.unique_id for t in tests}
    assert set(after.values()) == {(0, "pass")}


def test_a_job_not_handed_over_whole_leaves_no_worker_waiting_for_the_rest(tmp_path, monkeypatch):
    worker = dbt_worker.DbtWorker()

    def interrupted(*_):  # Ctrl-C between the job and the step's output handles
        raise KeyboardInterrupt

    monkeypatch.setattr(dbt_worker.reduction, "send_handle", interrupted)
    with pytest.raises(KeyboardInterrupt):
        next(worker.build(tmp_path, ["build"], tmp_path, {}))
    assert not worker.process.is_alive()
