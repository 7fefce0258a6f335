"""Ctrl-C (SIGINT) or SIGTERM during `make run` is told as a stop, whatever error the step it landed in carried.

A signal landing while DuckDB executes a query makes DuckDB raise its own error ("Query interrupted", "INTERRUPT
Error: Interrupted!"), not Dagster's interrupt: the run was told as failed, exit 1, with a run_failed alert (a
reviewer: 8 of 26 timed Ctrl-Cs). Here `main(["run"])` runs a one-step job in place of the daily one, and real
signals reach this process while Dagster's handlers are on, as in `make run`.
"""

import os
import signal
import threading
import time

import dagster as dg
import duckdb
import pytest

from orchestration import cli
from orchestration.lib.core import stop_signals
from tests.test_alerts import Receiver

# ~14-20 s on one thread unless interrupted (2 s in, `_ctrl_c_once_started`): the test cannot hang on a lost signal
LONG_QUERY = "select count(*) from range(5000000000) t(i) where i % 7 = 3"


def _long_query(started: threading.Event) -> None:
    """What the step a Ctrl-C stops runs: `LONG_QUERY` in DuckDB, `started` set just before."""
    con = duckdb.connect()
    con.execute("set threads = 1; set enable_progress_bar = false")
    started.set()
    con.execute(LONG_QUERY).fetchall()


def _ctrl_c_once_started(started: threading.Event) -> None:
    """Ctrl-C (SIGINT to this process) 2 s after `started`: DuckDB runs the query by then, even if this process
    stalls (0.5 s could be too soon)."""
    if started.wait(60):
        time.sleep(2)
        os.kill(os.getpid(), signal.SIGINT)


def _terminated(signum, frame):
    raise KeyboardInterrupt


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A data dir whose alerts.yml sends run_failed to a local receiver; SIGTERM raises here until Dagster's run
    takes it over (its default would end pytest)."""
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TIKTOK_ALERTS_FILE", raising=False)
    receiver = Receiver()
    (tmp_path / "alerts.yml").write_text(
        f'destinations:\n  hook:\n    url: "json://127.0.0.1:{receiver.port}/alerts"\nrules:\n  run_failed: {{}}\n'
    )
    sigterm = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield receiver
    finally:
        signal.signal(signal.SIGTERM, sigterm)
        receiver.server.shutdown()
        receiver.server.server_close()


def _job(compute) -> dg.JobDefinition:
    """The daily job's stand-in: one step, `land`, that runs `compute`."""
    op = dg.op(name="land")(compute)

    @dg.job(name="daily_pipeline")
    def job():
        op()

    return job


def _run(monkeypatch, compute) -> tuple[int, dg.ExecuteInProcessResult]:
    """`main(["run"])` with `_job(compute)` for the daily job; returns the exit code and the run."""
    runs = []

    def run_pipeline(paths, full_refresh=False):
        with dg.instance_for_test() as instance:
            runs.append(_job(compute).execute_in_process(instance=instance, raise_on_error=False))
        return runs[-1]

    monkeypatch.setattr(cli, "run_pipeline", run_pipeline)
    return cli.main(["run"]), runs[0]


def _step_error(result):
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.event_specific_data.error
    return error.cause or error  # Dagster wraps the op's own error


def test_ctrl_c_while_duckdb_runs_a_query_is_a_stop_not_a_failure(data, monkeypatch, capsys):
    started = threading.Event()

    def land():
        _long_query(started)

    threading.Thread(target=_ctrl_c_once_started, args=(started,), daemon=True).start()
    t0 = time.monotonic()
    code, result = _run(monkeypatch, land)
    assert time.monotonic() - t0 < 15, "the query was not interrupted"
    error = _step_error(result)
    assert (error.cls_name, error.message.strip()) == ("RuntimeError", "RuntimeError: Query interrupted")  # DuckDB's
    assert code == 130
    told = capsys.readouterr().err
    assert "Stopped (Ctrl-C) in: land. The next run does what this one left." in told
    assert "The pipeline failed" not in told
    assert data.requests == [], "no run_failed alert for a stop"


def test_sigterm_is_a_stop_with_its_own_code_whatever_error_the_step_raised(data, monkeypatch, capsys):
    def land():  # DuckDB's error when its query was interrupted from another thread, in place of Dagster's
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # a scheduler's stop, or `kill`
            time.sleep(10)
        except dg.DagsterExecutionInterruptedError:
            raise duckdb.InterruptException("INTERRUPT Error: Interrupted!") from None

    code, result = _run(monkeypatch, land)
    assert _step_error(result).cls_name == "InterruptException"
    assert code == 143
    told = capsys.readouterr().err
    assert "Stopped (SIGTERM) in: land. The next run does what this one left." in told
    assert "The pipeline failed" not in told and data.requests == []
    # Dagster leaves SIGTERM on SIGINT's handler after a run: put back, so a later SIGTERM still ends the process
    assert signal.getsignal(signal.SIGTERM) is _terminated


@pytest.mark.parametrize(
    "error", [RuntimeError("disk full"), duckdb.InterruptException("INTERRUPT Error: Interrupted!")], ids=str
)
def test_a_step_failing_without_a_stop_signal_is_a_failure_and_alerts(data, monkeypatch, capsys, error):
    """DuckDB's interrupt error alone (a query interrupted by code) is no stop: only a signal is."""

    def land():
        raise error

    code, _ = _run(monkeypatch, land)
    assert code == 1
    told = capsys.readouterr().err
    assert "The pipeline failed in: land. See the log above or `make ui`." in told and "Stopped" not in told
    assert [body["title"] for _, body in data.requests] == ["Pipeline run failed: daily_pipeline"]


@pytest.mark.parametrize("api_step", ["api_pull", "zz_api_pull"], ids=["failed before", "ran on after"])
def test_a_step_that_failed_for_its_own_reasons_is_still_a_failure_and_alerts(data, monkeypatch, capsys, api_step):
    """A scheduler's SIGTERM (or a Ctrl-C) must not hide a step that failed for its own reasons, before the signal
    or after it (DuckDB's interrupt error does not stop Dagster's executor: the other root runs on): every failed
    step was told as stopped, exit 130, no alert (review)."""
    started = threading.Event()

    def api_pull():
        raise RuntimeError("access_token_invalid: the token expired")

    def land():
        _long_query(started)

    @dg.job(name="daily_pipeline")
    def job():  # two roots, as the daily job's studio_exports and tiktok_api_pulls (run in name order)
        dg.op(name=api_step)(api_pull)()
        dg.op(name="land")(land)()

    def run_pipeline(paths, full_refresh=False):
        with dg.instance_for_test() as instance:
            return job.execute_in_process(instance=instance, raise_on_error=False)

    monkeypatch.setattr(cli, "run_pipeline", run_pipeline)
    threading.Thread(target=_ctrl_c_once_started, args=(started,), daemon=True).start()
    assert cli.main(["run"]) == 1
    told = capsys.readouterr().err
    failed = ", ".join(sorted([api_step, "land"]))
    assert f"The pipeline failed in: {failed}. See the log above or `make ui`." in told and "Stopped" not in told
    assert [body["title"] for _, body in data.requests] == ["Pipeline run failed: daily_pipeline"]


def test_a_run_that_finished_despite_a_signal_is_not_a_stop(data):
    def land():  # the interrupt arrives and the step finishes all the same
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(10)
        except dg.DagsterExecutionInterruptedError:
            pass

    with stop_signals.recording() as signals, dg.instance_for_test() as instance:
        result = _job(land).execute_in_process(instance=instance, raise_on_error=False)
    assert result.success and signals.first() == signal.SIGINT
    assert stop_signals.stop_of(result, signals) is None


def test_off_the_main_thread_nothing_is_recorded_and_nothing_breaks():
    seen = []

    def record():
        with stop_signals.recording() as signals:
            seen.append(signals.first())

    thread = threading.Thread(target=record)
    thread.start()
    thread.join()
    assert seen == [None]
