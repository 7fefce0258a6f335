"""One dbt build for the Dagster step, streamed to Dagster as it goes.

dbt runs in the worker process `python -m orchestration run` or the landing spawned (`lib/core/dbt_worker.py`),
else on a thread of this process (`lib/core/dbt_invocation.py`); each finished node's event comes back (through
the worker's pipe, or a queue) and dagster-dbt turns it
into the same Output / AssetCheckResult a `dbt` subprocess's JSON log line gave (`DbtCoreCliEventMessage`, the
class its CLI resource uses for dbt-core), so the UI shows the materializations and checks while the build runs.
A failed build fails the step once every result is in, naming the nodes that failed, as dagster-dbt's CLI
resource does.
"""

from __future__ import annotations

import ctypes
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from orchestration.lib.core import dagster_dbt_import, dbt_worker
from orchestration.lib.core.dbt_batched_tests import RESULTS_FILE, BatchedTestResult, failed_tests
from orchestration.lib.core.dbt_invocation import (
    RESULT_EVENTS,
    BuildOutcome,
    all_built,
    cancel_open_queries,
    command_args,
    command_environment,
    dbt_runner,
    release_warehouse,
    write_run_results,
)
from orchestration.lib.core.dbt_manifest import dbt_environment

FAILURES_SHOWN = 20  # in the step's error; run_results.json and batched_tests.json in the target have them all
STOP_WAIT_SECONDS = 60  # an interrupted build: how long to wait for dbt to stop before giving up on it


class DbtRun:
    """`dbt <args>` on the warehouse of `data_dir`, artifacts in `target`, with `env` set while it runs."""

    def __init__(self, data_dir: Path, args: list[str], target: Path, env: dict[str, str]):
        self.data_dir, self.args, self.target, self.env = data_dir, args, target, env
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._outcome: dict[str, Any] = {}
        self.outcome: BuildOutcome | None = None  # how dbt's build ended, once it did
        self.invocation_id = ""
        self.batched: list[BatchedTestResult] = []  # the tests run apart, once streamed
        self.tested_alongside = False  # whether the worker ran them during the build

    def stream(
        self,
        context: dg.AssetExecutionContext,
        manifest: dict,
        translator: DagsterDbtTranslator,
        project: DbtProject,
        alongside: dbt_worker.Alongside | None = None,
    ) -> Iterator[Any]:
        """dbt's results as Dagster events while dbt runs (then `raise_if_failed`): in the worker `python -m
        orchestration run` or the landing spawned, else on a thread here. In the worker, the batched tests of
        `alongside` run as their models are built (`tested_alongside` then says so); here they wait for the step
        to run them after the build. If the step is interrupted (Ctrl-C, a run terminated in the UI), dbt is
        interrupted too and waited for, so the run lock is never released while dbt still writes the warehouse."""
        worker = dbt_worker.take()
        if worker is None:
            yield from self._stream_here(context, manifest, translator, project)
            return
        context.log.debug(f"dbt builds in its worker process (pid {worker.process.pid})")
        self.tested_alongside = alongside is not None
        results = worker.build(self.data_dir, self.args, self.target, self.env, alongside)
        try:
            while True:
                try:
                    kind, payload = next(results)
                except StopIteration as end:
                    self.outcome = end.value
                    break
                if kind == "tests":
                    yield from self.stream_batched_tests(payload, context, manifest, translator, project)
                else:
                    yield from self._to_dagster(payload, context, manifest, translator, project)
        except BaseException:
            results.close()  # interrupts the build and waits for the worker to end
            raise

    def _stream_here(self, context, manifest: dict, translator: DagsterDbtTranslator, project) -> Iterator[Any]:
        """The build on a thread of this process; the project is parsed and the environment set here, on the
        step's thread, and put back only once dbt's thread ended."""
        with dagster_dbt_import.root_logging_kept():  # dbt-core may be imported here first (dagster_dbt_import)
            from dbt_common.events.functions import msg_to_dict

            def on_event(event) -> None:  # on dbt's threads
                if event.info.name in RESULT_EVENTS:
                    self._results.put(msg_to_dict(event))

            runner = dbt_runner(on_event)
        with dbt_environment(command_environment(self.data_dir, self.env)):
            thread = threading.Thread(target=self._run, args=(runner,), name="dbt-build", daemon=True)
            thread.start()
            try:
                while (raw := self._results.get()) is not None:
                    yield from self._to_dagster(raw, context, manifest, translator, project)
            except BaseException:
                _interrupt(thread)
                thread.join(timeout=STOP_WAIT_SECONDS)
                raise
            thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        result = self._outcome["result"]
        write_run_results(result, self.args, self.target)
        self.outcome = BuildOutcome.of(result)

    def _to_dagster(self, raw: dict, context, manifest: dict, translator: DagsterDbtTranslator, project):
        self.invocation_id = self.invocation_id or raw["info"].get("invocation_id", "")
        return _to_dagster(raw, context, manifest, translator, project, self.target)

    def may_test(self, parents: tuple[str, ...]) -> bool:
        """Whether dbt would have run a selected test reading `parents`: the build ran (no exception) and none of
        them failed or was skipped in it. A parent this build did not select is as the last build left it: a
        relationships test from an untouched fact to a rebuilt `dim_accounts` runs too."""
        if self.outcome is None or self.outcome.exception is not None:
            return False
        return all_built(self.outcome.statuses, parents)

    def stream_batched_tests(
        self,
        results: list[BatchedTestResult],
        context: dg.AssetExecutionContext,
        manifest: dict,
        translator: DagsterDbtTranslator,
        project: DbtProject,
    ) -> Iterator[Any]:
        """The tests run apart (`lib/core/dbt_batched_tests.py`) as dbt test results, so as the same asset checks
        (called once per model's tests); `batched` gathers them, as they ran."""
        self.batched += results
        for result in results:
            node_info = {
                "unique_id": result.test.unique_id,
                "node_status": result.status,
                "node_started_at": result.started.isoformat(),
                "node_finished_at": result.finished.isoformat(),
            }
            raw = {
                "info": {"name": "LogTestResult", "msg": f"{result.status.upper()} {result.test.name}",
                         "invocation_id": self.invocation_id, "level": "info"},
                "data": {"node_info": node_info, "num_failures": result.failures, "status": result.status},
            }  # fmt: skip
            yield from _to_dagster(raw, context, manifest, translator, project, self.target)

    @property
    def batched_failures(self) -> list[str]:
        """The tests run apart that failed (a warning is not a failure), as `failed_nodes` names dbt's."""
        return failed_tests(self.batched)

    def raise_if_failed(self) -> None:
        """A failed build fails the step, naming what failed (a warning does not)."""
        outcome = self.outcome
        failed = [] if outcome.success else outcome.failed_nodes(passing=("success", "pass", "warn"))
        failed += self.batched_failures
        if outcome.success and not failed:
            return
        shown = "\n".join(failed[:FAILURES_SHOWN])
        if len(failed) > FAILURES_SHOWN:
            shown += f"\n… and {len(failed) - FAILURES_SHOWN} more"
        raise dg.Failure(
            f"dbt {' '.join(self.args)} failed"
            + (f": {outcome.exception}" if outcome.exception else "")
            + (f"\n{shown}" if failed else "")
            + f"\n(dbt.log, run_results.json and {RESULTS_FILE} in {self.target})"
        )

    def _run(self, runner) -> None:
        try:
            self._outcome["result"] = runner.invoke(command_args(self.args, self.target))
        except BaseException as error:  # handed to the step's thread, which raises it
            self._outcome["error"] = error
        finally:
            release_warehouse()
            self._results.put(None)


def _interrupt(thread: threading.Thread) -> None:
    """Stop dbt as Ctrl-C stops it: its running queries cancelled, and KeyboardInterrupt raised in its thread,
    which dbt's runner handles by skipping the nodes not started."""
    cancel_open_queries()
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt))


def _to_dagster(raw: dict, context, manifest: dict, translator: DagsterDbtTranslator, project, target: Path):
    event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
    return event.to_default_asset_events(
        manifest=manifest, dagster_dbt_translator=translator, context=context, target_path=target, project=project
    )
