"""One dbt build inside the Dagster step's process, streamed to Dagster as it goes.

dbt runs on a thread of its own (`lib/core/dbt_invocation.invoke_dbt`); each finished node's event comes back
through a queue and dagster-dbt turns it into the same Output / AssetCheckResult a `dbt` subprocess's JSON log
line gave (`DbtCoreCliEventMessage`, the class its CLI resource uses for dbt-core), so the UI shows the
materializations and checks while the build runs. A failed build fails the step once every result is in,
naming the nodes that failed, as dagster-dbt's CLI resource does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from orchestration.lib.core.dbt_batched_tests import BatchedTestResult
from orchestration.lib.core.dbt_invocation import RESULT_EVENTS, failed_nodes, invoke_dbt

FAILURES_SHOWN = 20  # in the step's error; run_results.json in the target folder has them all


class DbtRun:
    """`dbt <args>` on the warehouse of `data_dir`, artifacts in `target`, with `env` set while it runs."""

    def __init__(self, data_dir: Path, args: list[str], target: Path, env: dict[str, str]):
        self.data_dir, self.args, self.target, self.env = data_dir, args, target, env
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._outcome: dict[str, Any] = {}
        self.result = None  # dbt's result, once the build ended
        self.statuses: dict[str, str] = {}  # dbt's status of each node it ran, by unique_id
        self.invocation_id = ""
        self.batched_failures: list[str] = []

    def stream(
        self,
        context: dg.AssetExecutionContext,
        manifest: dict,
        translator: DagsterDbtTranslator,
        project: DbtProject,
    ) -> Iterator[Any]:
        """dbt's results as Dagster events while dbt runs (then `raise_if_failed`)."""
        thread = threading.Thread(target=self._run, name="dbt-build", daemon=True)  # Ctrl-C must not wait for it
        thread.start()
        while (raw := self._results.get()) is not None:
            self.invocation_id = self.invocation_id or raw["info"].get("invocation_id", "")
            yield from _to_dagster(raw, context, manifest, translator, project, self.target)
        thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        self.result = self._outcome["result"]
        self.statuses = {r.node.unique_id: str(r.status) for r in getattr(self.result.result, "results", None) or []}

    def may_test(self, model: str, parents: tuple[str, ...]) -> bool:
        """Whether dbt would have run a test of `model` reading `parents`: the model was built by this build and
        none of them failed or was skipped in it (a parent it did not select is as the last build left it)."""
        status = self.statuses
        return status.get(model) == "success" and all(status.get(p, "success") == "success" for p in parents)

    def stream_batched_tests(
        self,
        results: list[BatchedTestResult],
        context: dg.AssetExecutionContext,
        manifest: dict,
        translator: DagsterDbtTranslator,
        project: DbtProject,
    ) -> Iterator[Any]:
        """The tests run apart (`lib/core/dbt_batched_tests.py`) as dbt test results, so as the same asset checks."""
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
        self.batched_failures = [f"{r.test.unique_id}: fail {r.failures} row(s)" for r in results if r.status == "fail"]

    def raise_if_failed(self) -> None:
        """A failed build fails the step, naming what failed (a warning does not)."""
        result = self.result
        failed = [line for line in failed_nodes(result) if ": warn" not in line] if not result.success else []
        failed += self.batched_failures
        if result.success and not failed:
            return
        shown = "\n".join(failed[:FAILURES_SHOWN])
        if len(failed) > FAILURES_SHOWN:
            shown += f"\n… and {len(failed) - FAILURES_SHOWN} more"
        raise dg.Failure(
            f"dbt {' '.join(self.args)} failed"
            + (f": {result.exception}" if result.exception else "")
            + (f"\n{shown}" if failed else "")
            + f"\n(dbt.log and run_results.json in {self.target})"
        )

    def _run(self) -> None:
        from dbt_common.events.functions import msg_to_dict

        def on_event(event) -> None:  # on dbt's threads
            if event.info.name in RESULT_EVENTS:
                self._results.put(msg_to_dict(event))

        try:
            self._outcome["result"] = invoke_dbt(self.data_dir, self.args, self.target, self.env, on_event=on_event)
        except BaseException as error:  # handed to the step's thread, which raises it
            self._outcome["error"] = error
        finally:
            self._results.put(None)


def _to_dagster(raw: dict, context, manifest: dict, translator: DagsterDbtTranslator, project, target: Path):
    event = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
    return event.to_default_asset_events(
        manifest=manifest, dagster_dbt_translator=translator, context=context, target_path=target, project=project
    )
