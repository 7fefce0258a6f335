"""dbt's build in a process of its own, spawned when a run starts, its results streamed back as they come.

In the Dagster process, dbt's Python (compiling and running ~60 nodes on its threads) and Dagster's (storing each
result as events, ~5 ms a check on a slow machine) take turns on one core, however many the machine has. With
dbt in a worker they run side by side. `python -m orchestration run` spawns the worker first thing (`start`), so
it imports dbt on the other core while the Dagster process imports Dagster and lands the drop; a run launched
otherwise (`make ui`) spawns it as soon as its landing finds new files. The worker loads the project's parsed
Manifest and, unless the build is already waiting, runs a `dbt ls` that opens no database: dbt's set-up of the
first command in a process (its config classes' JSON schemas, ~0.8 s). The dbt step hands it its build (`take`)
and reads dbt's result events from a queue. One build per worker; it then exits. A run that builds nothing stops
it unused (`discard`).

Measured on the demo's first run (2-core machine, alternating three and three): the dbt step 8.9-9.4 s with dbt on
a thread of the Dagster process, 7.0-8.1 s in the worker, its first model after ~1.3 s instead of ~1.9 s; the
whole run 19.4-20.8 s against 18.4-20.7 s, for ~2 CPU-seconds more (the worker imports dbt again).

The worker opens the warehouse only for its build: DuckDB lets one process write a database file, and the landing
writes it until the dbt step starts; the step waits for the worker to exit before it opens the warehouse again.
`spawn_worker` off (the test suite, which runs the pipeline dozens of times per process, with dbt imported once)
builds on a thread of the Dagster process instead (`defs/dbt_run.py`).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import shutil
import signal
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

from orchestration.lib.core.paths import DBT_PROJECT_DIR

# Whether `start` spawns a worker; off, the dbt step builds in its own process as it does without one.
spawn_worker = True
POLL_SECONDS = 0.5  # how often a wait for the worker's next result checks that the worker is alive
EXIT_WAIT_SECONDS = 60  # for a worker to end once its build ended or was interrupted; then it is killed

_pending: DbtWorker | None = None


class WorkerLost(RuntimeError):
    """The worker process ended before it sent the end of its build."""


class DbtWorker:
    """One spawned process that imports dbt now and runs one build when asked (`build`)."""

    def __init__(self, project_dir: Path = DBT_PROJECT_DIR):
        context = multiprocessing.get_context("spawn")
        self._jobs, jobs = context.Pipe()
        self._results = context.Queue()  # fed by dbt's threads in the worker; never blocks them
        self.process = context.Process(
            target=_serve, args=(jobs, self._results, Path(project_dir)), name="dbt-worker", daemon=True
        )
        self.process.start()
        jobs.close()  # the worker's end: its death is then seen here as the pipe's end

    def build(self, data_dir: Path, args: list[str], target: Path, env: dict[str, str]) -> Iterator[dict]:
        """Run `dbt <args>` in the worker and yield dbt's result events (dicts, as `msg_to_dict` gives them) as
        they come; the generator's return value is dbt's `BuildOutcome`. Closing it early interrupts the build."""
        try:
            self._jobs.send((Path(data_dir), list(args), Path(target), dict(env)))
        except OSError:  # its end of the pipe is gone: the process with it
            self.process.join(POLL_SECONDS)
            raise self._lost() from None
        finished = False
        try:
            while True:
                kind, payload = self._next()
                if kind == "event":
                    yield payload
                elif kind == "done":
                    finished = True
                    self._wait_for_exit()  # its DuckDB file lock goes with it
                    return payload
                else:  # "error": dbt's runner raised, not a failed build
                    finished = True
                    raise RuntimeError(f"dbt raised in its worker process:\n{payload}")
        finally:
            if not finished:
                self.interrupt()

    def _next(self) -> tuple[str, object]:
        while True:
            try:
                return self._results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self.process.is_alive():
                    try:  # its last message may have arrived with its exit
                        return self._results.get(timeout=POLL_SECONDS)
                    except queue.Empty:
                        raise self._lost() from None

    def _lost(self) -> WorkerLost:
        return WorkerLost(
            f"the dbt worker process ended (exit code {self.process.exitcode}) before its build finished: the "
            "warehouse keeps what dbt committed, and the next run builds the same days again"
        )

    def interrupt(self) -> None:
        """Stop the build as Ctrl-C stops dbt (its running queries cancelled, the nodes not started skipped), and
        wait for the process to end, so nothing writes the warehouse once the caller goes on."""
        if self.process.is_alive() and self.process.pid is not None:
            os.kill(self.process.pid, signal.SIGINT)
        self._wait_for_exit()

    def _wait_for_exit(self) -> None:
        self.process.join(EXIT_WAIT_SECONDS)
        if self.process.is_alive():  # a dbt that ignores the interrupt, a query that cannot be cancelled
            self.process.kill()
            self.process.join()

    def stop(self) -> None:
        """End a worker that was given no build, at once: it holds nothing but its warm-up's scratch folder."""
        self._jobs.close()
        self.process.kill()
        self.process.join()
        shutil.rmtree(_scratch(self.process.pid), ignore_errors=True)


def start() -> bool:
    """Spawn the worker for this run's dbt step, unless one is waiting or `spawn_worker` is off; whether one is."""
    global _pending
    if _pending is None and spawn_worker and _cores() >= 2:  # on one core the worker would only take turns
        try:
            _pending = DbtWorker()
        except OSError:  # no process to spare (a limit on processes or memory): dbt builds in this one
            return False
        atexit.register(discard)
    return _pending is not None


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def take() -> DbtWorker | None:
    """The worker `start` spawned, for one build (None: build in this process). A worker that died meanwhile is
    not handed out."""
    global _pending
    worker, _pending = _pending, None
    if worker is not None and not worker.process.is_alive():
        return None
    return worker


def discard() -> None:
    """Stop a worker no step took (a run with nothing to build)."""
    global _pending
    worker, _pending = _pending, None
    if worker is not None:
        worker.stop()


def _serve(jobs, results, project_dir: Path) -> None:
    """The worker: dbt imported and warmed up, then one build, its result events put on `results` as they come."""
    from orchestration.lib.core.workers import exit_quickly

    exit_quickly()
    # Ctrl-C in the terminal reaches every process of the group: until a build is handed over, the worker leaves
    # it to the Dagster process (which ends it); during the build, it stops dbt as in the Dagster process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _warm_up(project_dir, jobs)
    try:
        job = jobs.recv()
    except (EOFError, OSError):  # the run ended without a build
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    data_dir, args, target, env = job
    results.put(_build(project_dir, data_dir, args, target, env, results))
    results.close()
    results.join_thread()


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


def _build(project_dir: Path, data_dir: Path, args: list[str], target: Path, env: dict[str, str], results):
    from dbt_common.events.functions import msg_to_dict

    from orchestration.lib.core.dbt_invocation import (
        RESULT_EVENTS,
        BuildOutcome,
        command_args,
        command_environment,
        dbt_runner,
        release_warehouse,
    )
    from orchestration.lib.core.dbt_manifest import dbt_environment

    def on_event(event) -> None:  # on dbt's threads
        if event.info.name in RESULT_EVENTS:
            results.put(("event", msg_to_dict(event)))

    try:
        runner = dbt_runner(on_event, project_dir=project_dir)
        with dbt_environment(command_environment(data_dir, env)):
            try:
                result = runner.invoke(command_args(args, target, project_dir=project_dir))
            finally:
                release_warehouse()
        if "--no-write-json" in args and hasattr(result.result, "write"):
            result.result.write(str(target / "run_results.json"))  # as the Dagster process writes it (DbtRun)
        return ("done", BuildOutcome.of(result))
    except BaseException:  # noqa: BLE001 (sent to the Dagster process, which raises it in the dbt step)
        return ("error", traceback.format_exc())
