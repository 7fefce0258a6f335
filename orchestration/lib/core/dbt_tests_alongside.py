"""The batched generic tests run while dbt still builds, each as soon as every model it reads is built.

In dbt's worker process (`dbt_worker.py`) dbt's result events say when a model is built. A batched test
(`dbt_batched_tests.py`) whose parents this build runs have all been built with success is handed to a thread
that runs it, with the other tests ready by then (one statement per model, `batched_test_results`), on a
connection of its own to the database dbt writes (the same DuckDB database: one process), and its results go to
the Dagster process at once. There they become asset checks while dbt builds the rest, instead of all ~430
waiting for the build's end (~5 ms each on a slow machine: 2.5 s of the demo's dbt step). A test reads only
models dbt has finished and never writes, so it sees what it would see after the build.

Which tests run is the rule `DbtRun.may_test` applies after a build (`dbt_invocation.all_built`): none whose
parent failed or was skipped. A parent outside this build counts as built (it is as the last build left it); a test
still waiting when the build ends (a parent dbt never reported) is decided then, from dbt's statuses. If dbt raised,
the tests already run stay reported and the rest are not run: the step fails either way.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb

from orchestration.lib.core.dbt_batched_tests import BatchedTest, BatchedTestResult, batched_test_results
from orchestration.lib.core.dbt_invocation import all_built

_END = None


class BatchedTestsAlongside:
    """`tests` of a build that runs the models `built`, run on a thread as their parents are built; `send` gets
    each statement's results (a list of `BatchedTestResult`) from that thread."""

    def __init__(
        self,
        tests: Iterable[BatchedTest],
        built: set[str],
        warehouse: Path,
        tests_from: str | None,
        send: Callable[[list[BatchedTestResult]], None],
    ):
        self._tests = {test.unique_id: test for test in tests}
        # each test's parents that this build runs and has not reported yet
        self._waiting = {uid: {p for p in test.parents if p in built} for uid, test in self._tests.items()}
        self._warehouse, self._tests_from, self._send = warehouse, tests_from, send
        self._lock = threading.Lock()
        self._ready: queue.SimpleQueue = queue.SimpleQueue()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._error: BaseException | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dbt-tests-alongside", daemon=True)
        self._thread.start()
        self._hand_over([uid for uid, parents in self._waiting.items() if not parents])  # read no built model

    def built(self, unique_id: str, status: str) -> None:
        """dbt reported a node (on dbt's threads): the tests waiting only for it start if it succeeded; those
        reading it are dropped otherwise."""
        with self._lock:
            ready = []
            for test_id in [uid for uid, parents in self._waiting.items() if unique_id in parents]:
                parents = self._waiting[test_id]
                parents.discard(unique_id)
                if status != "success":
                    del self._waiting[test_id]
                elif not parents:
                    ready.append(test_id)
            self._hand_over(ready)

    def finish(self, statuses: dict[str, str] | None) -> None:
        """The build ended: the tests still waiting run if none of their parents failed or was skipped (`statuses`
        None: dbt raised, and none of them runs); returns once every result was sent."""
        with self._lock:
            if statuses is not None:
                self._hand_over([uid for uid in list(self._waiting) if all_built(statuses, self._tests[uid].parents)])
            self._waiting.clear()
        self._ready.put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def interrupt(self) -> None:
        """Stop at once (the build was interrupted): the running statement is cancelled, the rest not run."""
        with self._lock:
            self._waiting.clear()
        self._stopped.set()
        self._ready.put(_END)
        while self._thread.is_alive():
            try:
                if self._connection is not None:
                    self._connection.interrupt()
            except duckdb.Error:  # closed by the thread as it ended
                pass
            self._thread.join(0.05)

    def _hand_over(self, test_ids: list[str]) -> None:  # under the lock, or before the thread can be handed any
        for test_id in test_ids:
            self._waiting.pop(test_id, None)
        if test_ids:
            self._ready.put([self._tests[uid] for uid in test_ids])

    def _run(self) -> None:
        try:
            while (tests := self._ready.get()) is not _END:
                while True:  # what became ready meanwhile goes into the same statements
                    try:
                        more = self._ready.get_nowait()
                    except queue.Empty:
                        break
                    if more is _END:
                        self._ready.put(_END)
                        break
                    tests += more
                if self._connection is None:  # the database dbt has open: the same one, in this process
                    self._connection = duckdb.connect(str(self._warehouse))
                for results in batched_test_results(self._connection, tests, self._tests_from):
                    if self._stopped.is_set():
                        return
                    self._send(results)
        except BaseException as error:  # raised by `finish` (an interrupted statement ends the thread quietly)
            if not isinstance(error, duckdb.InterruptException):
                self._error = error
        finally:
            if self._connection is not None:
                self._connection.close()
