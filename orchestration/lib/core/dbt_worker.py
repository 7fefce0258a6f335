"""dbt's build in a process of its own, spawned when a run starts, its results streamed back as they come.

In the Dagster process, dbt's Python (compiling and running ~60 nodes on its threads) and Dagster's (storing each
result as events, ~5 ms a check on a slow machine) take turns on one core, however many the machine has. With
dbt in a worker they run side by side. `python -m orchestration run` spawns the worker first thing (`start`), so
it imports dbt on the other core while the Dagster process imports Dagster and lands the drop; a run launched
otherwise (`make ui`) spawns it as soon as its landing finds new files. The worker loads the project's parsed
Manifest and, unless the build is already waiting, runs a `dbt ls` that opens no database: dbt's set-up of the
first command in a process (its config classes' JSON schemas, ~0.8 s). The dbt step hands it its build (`take`),
with the batched generic tests, which the worker runs as their models are built (`dbt_tests_alongside.py`), and
reads dbt's result events and the tests' results from a pipe. One build per worker; it then exits. A run that
builds nothing stops it unused (`discard`).

Measured (2-core machine, alternating, marts and asset-check results identical): the demo's dbt step 9.5 s on
average with dbt on a thread of the Dagster process, 7.8 s in the worker with the tests alongside (seven runs each);
a 300 x 90 backfill's 13.7-14.2 s against 12.2 s, the whole run 53.4-57.9 s against 51.5-51.6 s (README, Scale).

The worker opens the warehouse only for its build: DuckDB lets one process write a database file, and the landing
writes it until the dbt step starts; the step waits for the worker to exit before it opens the warehouse again.
The worker ends with the Dagster process, however that ends, and its output goes where the step's goes (Dagster
captures it for the UI). `spawn_worker` off (the test suite, which runs the pipeline dozens of times per process,
with dbt imported once) builds on a thread of the Dagster process instead (`defs/dbt_run.py`).
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from multiprocessing import reduction
from pathlib import Path
from typing import Any

from orchestration.lib.core import collector
from orchestration.lib.core.paths import DBT_PROJECT_DIR
from orchestration.lib.core.workers import usable_cores, write_bytecode_as_parent

# Whether `start` spawns a worker; off, the dbt step builds in its own process as it does without one.
spawn_worker = True
POLL_SECONDS = 0.5  # for a worker whose pipe ended to be seen ended; a fifth: each round of a wait for its exit
PROCESS_NAME = "dbt-worker"  # /proc/<pid>/comm of the worker
EXIT_WAIT_SECONDS = 60  # for a worker to end once its build ended or was interrupted; then it is killed
STOP_WAIT_SECONDS = 5  # for an unused worker done warming up to end by itself

_pending: DbtWorker | None = None
_started: list[DbtWorker] = []  # every worker of this process, for `_at_exit`
# the batched tests to run during the build (`dbt_tests_alongside`), the models it runs, the tests' first day
Alongside = tuple[list, set[str], str | None]


class WorkerLost(RuntimeError):
    """The worker process ended before it sent the end of its build."""


class DbtWorker:
    """One spawned process that imports dbt now and runs one build when asked (`build`)."""

    def __init__(self, project_dir: Path = DBT_PROJECT_DIR):
        context = multiprocessing.get_context("spawn")
        self._jobs, jobs = context.Pipe()
        # one way, its writing end only in the worker: a worker that dies, even half-way through a message, is
        # then seen here as the pipe's end
        self._results, results = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_serve,
            args=(jobs, results, Path(project_dir), sys.dont_write_bytecode),
            name=PROCESS_NAME,
            daemon=True,
        )
        self.process.start()
        jobs.close()
        results.close()
        self.warmed_up = False  # its warm-up ended (it said "ready")
        self.given_job = False  # a build was (or was being) handed to it
        _started[:] = [worker for worker in _started if worker.process.is_alive()] + [self]

    def build(
        self,
        data_dir: Path,
        args: list[str],
        target: Path,
        env: dict[str, str],
        alongside: Alongside | None = None,
    ) -> Iterator[tuple[str, Any]]:
        """Run `dbt <args>` in the worker and yield, as they come, ("event", dbt's result event as `msg_to_dict`
        gives it) and, with `alongside` (the batched tests, the models the build runs, the tests' first day),
        ("tests", the `BatchedTestResult`s of one statement) as `dbt_tests_alongside` runs them during the build.
        The generator's return value is dbt's `BuildOutcome`. Closing it early interrupts the build."""
        self.given_job = True
        try:
            self._jobs.send((Path(data_dir), list(args), Path(target), dict(env), alongside))
            _send_output(self._jobs, self.process.pid)  # dbt prints where the step's output goes (Dagster's capture)
        except BaseException as error:  # the worker may hold half a job: it must not wait for the rest
            self.process.kill()
            self.process.join()
            if isinstance(error, OSError):  # its end of the pipe was gone: the process with it
                raise self._lost() from None
            raise
        finished = False
        try:
            while True:
                kind, payload = self._next()
                if kind == "ready":  # its warm-up ended
                    self.warmed_up = True
                    continue
                if kind in ("event", "tests"):
                    yield kind, payload
                elif kind == "done":
                    finished = True
                    self._wait_for_exit()  # its DuckDB file lock goes with it
                    return payload
                else:  # "error": dbt's runner raised, not a failed build
                    finished = True
                    self._wait_for_exit()
                    raise RuntimeError(f"dbt's worker process raised:\n{payload}")
        finally:
            if not finished:
                self.interrupt()

    def _next(self) -> tuple[str, object]:
        try:
            return self._results.recv()
        except (EOFError, OSError):  # every writing end closed: the worker ended, maybe half-way through a message
            self.process.join(POLL_SECONDS)
            raise self._lost() from None

    def _lost(self) -> WorkerLost:
        return WorkerLost(
            f"the dbt worker process ended (exit code {self.process.exitcode}) before its build finished: the "
            "warehouse keeps what dbt committed, and the next run builds the same days again"
        )

    def interrupt(self) -> None:
        """Stop the build as Ctrl-C stops dbt (its running queries cancelled, the nodes not started skipped; a
        build not started yet is not started), and wait for the process to end, so nothing writes the warehouse
        once the caller goes on."""
        if self.process.is_alive() and self.process.pid is not None:
            os.kill(self.process.pid, signal.SIGINT)
        self._wait_for_exit()

    def _wait_for_exit(self) -> None:
        """Join the worker, reading what it still sends meanwhile (a full pipe would keep it from exiting)."""
        deadline = time.monotonic() + EXIT_WAIT_SECONDS
        while self.process.is_alive() and time.monotonic() < deadline:
            self.process.join(POLL_SECONDS / 5)
            try:  # raw bytes: no message framing to keep in step with (a read may have stopped half-way)
                while self._results.poll() and os.read(self._results.fileno(), 1 << 16):
                    pass
            except OSError:
                pass
        if self.process.is_alive():  # a dbt that ignores the interrupt, a query that cannot be cancelled
            self.process.kill()
            self.process.join()

    def stop(self) -> None:
        """End a worker that was given no build: one done warming up ends when it sees its end of the pipe closed
        (killed, dbt's adapter would leave a semaphore for Python's resource tracker to warn about); one still
        importing dbt is killed, holding nothing but its warm-up's scratch folder."""
        self._jobs.close()
        if self._warmed_up():
            self.process.join(STOP_WAIT_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        shutil.rmtree(_scratch(self.process.pid), ignore_errors=True)

    def _warmed_up(self) -> bool:
        if not self.warmed_up:
            try:  # "ready" is the only message of a worker given no build; one just sent may still be on its way
                self.warmed_up = self._results.poll(POLL_SECONDS / 5) and self._results.recv()[0] == "ready"
            except (EOFError, OSError):
                pass
        return self.warmed_up


def start() -> bool:
    """Spawn the worker for this run's dbt step, unless one is waiting or `spawn_worker` is off; whether one is."""
    global _pending
    if _pending is None and spawn_worker and usable_cores() >= 2:  # on one core the worker would only take turns
        try:
            _pending = DbtWorker()
        except OSError:  # no process to spare (a limit on processes or memory): dbt builds in this one
            return False
        atexit.unregister(_at_exit)
        atexit.register(_at_exit)
    return waiting()


def waiting() -> bool:
    """Whether a worker was spawned and waits for its build (`python -m orchestration run` spawns it at launch)."""
    return _pending is not None


def take() -> DbtWorker | None:
    """The worker `start` spawned, for one build (None: build in this process). A worker that died meanwhile is
    not handed out."""
    global _pending
    worker, _pending = _pending, None
    if worker is not None and not worker.process.is_alive():
        worker.stop()  # its scratch folder, its pipe
        return None
    return worker


def _at_exit() -> None:
    """The process ends: a worker still building (the step was abandoned, not closed: Ctrl-C in Dagster's own code,
    a second Ctrl-C while the step waited for it) is interrupted and waited for, one never given a build stopped, so
    none outlives it half-way."""
    global _pending
    _pending = None
    if any(worker.process.is_alive() for worker in _started) and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # one more Ctrl-C must not cut the wait short: dbt stops anyway
    for worker in _started:
        try:
            if worker.process.is_alive():
                worker.interrupt() if worker.given_job else worker.stop()
        except Exception:  # noqa: BLE001 (the next worker still gets its turn)
            worker.process.kill()


def discard() -> None:
    """Stop a worker no step took (a run with nothing to build)."""
    global _pending
    worker, _pending = _pending, None
    if worker is not None:
        worker.stop()


def _serve(jobs, results, project_dir: Path, dont_write_bytecode: bool) -> None:
    """The worker: dbt imported and warmed up, then one build, its result events put on `results` as they come."""
    write_bytecode_as_parent(dont_write_bytecode)
    name_process(PROCESS_NAME)
    _exit_with_the_dagster_process()
    # Ctrl-C in the terminal reaches every process of the group, and `interrupt` sends one more. Before the build, a
    # SIGINT is noted, and the build then not run; during it, the first stops dbt as in the Dagster process.
    interrupted = []
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    # dbt's import and its manifest live as long as the worker: no full collection walks them while they are made,
    # and, frozen, the build's full collections skip them (`collector`: five of the start-up took 0.60 s on the demo)
    collector.defer_until_started()
    _warm_up(project_dir, jobs)
    collector.started()
    results = _Sender(results)
    results.put(("ready", None))
    try:
        job = jobs.recv()
        stdout, stderr = (reduction.recv_handle(jobs) for _ in range(2))
    except (EOFError, OSError):  # the run ended without a build
        _exit_quickly()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(stdout, 1)
    os.dup2(stderr, 2)
    try:
        signal.signal(signal.SIGINT, _interrupt_once)
        if interrupted:
            raise KeyboardInterrupt
        outcome = _build(project_dir, *job, results)
    except KeyboardInterrupt:
        outcome = ("error", "interrupted before its build started")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results.put(outcome)
    results.close()
    _exit_quickly()


def _exit_quickly() -> None:
    """End the worker once everything is sent, skipping the interpreter's teardown of dbt's modules (~1 s the step
    waits for), but not multiprocessing's finalizers: they release the semaphores dbt's adapter made (else Python's
    resource tracker warns of them when the run ends)."""
    multiprocessing.util._exit_function()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _Sender:
    """The worker's end of the results pipe, fed by dbt's threads, the tests' thread and this one through a queue of
    no bound and written by a thread of its own: a pipe holds 64 KiB, and dbt must not wait for Dagster to read."""

    def __init__(self, connection):
        self._connection = connection
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="dbt-worker-sender", daemon=True)
        self._thread.start()

    def put(self, message: tuple[str, Any]) -> None:
        self._queue.put(message)

    def close(self) -> None:
        """Once everything put is written."""
        self._queue.put(None)
        self._thread.join()

    def _write(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                self._connection.send(message)
            except OSError:  # the Dagster process is gone (this worker follows it: `_exit_with_the_dagster_process`)
                return


def _send_output(connection, pid: int) -> None:
    """The step's stdout and stderr to the worker; /dev/null for one the process was started without (its number
    may since be another file's: the run lock's)."""
    for fd, stream in ((1, sys.__stdout__), (2, sys.__stderr__)):
        if stream is not None:
            reduction.send_handle(connection, fd, pid)
            continue
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            reduction.send_handle(connection, devnull, pid)
        finally:
            os.close(devnull)


def _interrupt_once(signum, frame) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's and `interrupt`'s: dbt stops on the first
    raise KeyboardInterrupt


def name_process(name: str) -> None:
    """The process's name as `ps` and /proc/<pid>/comm show it (Linux; elsewhere nothing): `make bench` tells dbt's
    peak memory by it."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def _exit_with_the_dagster_process() -> None:
    """End this worker when the process that spawned it ends, however it ends (killed, out of memory): its run lock
    goes with it, and nothing may write the warehouse then."""
    parent = multiprocessing.parent_process()

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    if parent is not None:
        threading.Thread(target=watch, name="dbt-worker-parent-watch", daemon=True).start()


def _warm_up(project_dir: Path, jobs) -> None:
    """dbt imported, the Manifest loaded, and a first command run: `ls` of no node, which opens no database (its
    data directory, were it to, is a scratch folder) and writes its artifacts and log there."""
    from orchestration.lib.core.dbt_invocation import command_args, command_environment, dbt_runner
    from orchestration.lib.core.dbt_manifest import dbt_environment

    scratch = _scratch(os.getpid())
    try:
        runner = dbt_runner(project_dir=project_dir)
        if jobs.poll():  # the build is waiting already: it does the rest of the set-up itself
            return
        with dbt_environment(command_environment(scratch)):
            args = ["ls", "--resource-type", "semantic_model", "--log-level", "none"]
            runner.invoke(command_args(args, scratch, quiet=True, project_dir=project_dir))
    except Exception:  # noqa: BLE001 (a warm-up only: the build does the same again and reports what fails)
        pass
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _scratch(pid: int | None) -> Path:
    return Path(tempfile.gettempdir()) / f"tiktok-dbt-worker-{pid}"


def _build(project_dir: Path, data_dir: Path, args: list[str], target: Path, env: dict[str, str],
           alongside: Alongside | None, results):  # fmt: skip
    from dbt_common.events.functions import msg_to_dict

    from orchestration.lib.core.dbt_invocation import (
        RESULT_EVENTS,
        BuildOutcome,
        command_args,
        command_environment,
        dbt_runner,
        release_warehouse,
        write_run_results,
    )
    from orchestration.lib.core.dbt_manifest import dbt_environment
    from orchestration.lib.core.dbt_tests_alongside import BatchedTestsAlongside
    from orchestration.lib.core.paths import DataPaths

    tests = None
    if alongside is not None:
        batched, built, tests_from = alongside
        warehouse = DataPaths(Path(data_dir)).warehouse
        tests = BatchedTestsAlongside(batched, built, warehouse, tests_from, lambda part: results.put(("tests", part)))

    def on_event(event) -> None:  # on dbt's threads
        if event.info.name in RESULT_EVENTS:
            raw = msg_to_dict(event)
            results.put(("event", raw))  # before the tests it lets run: Dagster hears of a model before its checks
            if tests is not None:
                node = raw["data"]["node_info"]
                tests.built(node["unique_id"], node.get("node_status", ""))

    try:
        runner = dbt_runner(on_event, project_dir=project_dir)
        with dbt_environment(command_environment(data_dir, env)):
            try:
                result = runner.invoke(command_args(args, target, project_dir=project_dir))
                outcome = BuildOutcome.of(result)
                if tests is not None and outcome.exception is None:  # the tests still waiting, by dbt's statuses
                    tests.finish(outcome.statuses)  # (Ctrl-C meanwhile: the finally interrupts them)
                    tests = None
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build is over: its outcome goes out whole
            finally:  # dbt raised or was interrupted (dbt's runner returns Ctrl-C as its exception): no more tests
                if tests is not None:
                    tests.interrupt()
                release_warehouse()
        write_run_results(result, args, target)  # as the Dagster process writes it (DbtRun)
        return ("done", outcome)
    except BaseException:  # noqa: BLE001 (sent to the Dagster process, which raises it in the dbt step)
        return ("error", traceback.format_exc())
