"""great-expectations in a process of its own, started while dbt builds, so its import costs no wall time.

Importing great_expectations takes ~2 s of CPU in every run that validates a mart, about as long as the
validation itself. While dbt builds, this machine's second core is mostly idle: dbt runs inside the Dagster
process and its Python holds one core. `start()` (called by the dbt step when it has something to build)
spawns one worker that imports GE at once; `check_published_marts()` then validates in that worker, or in this
process when none was started (a test, `make report`, a run where dbt built nothing). Same function, same
arguments, same results either way: the worker only moves where it runs.
"""

from __future__ import annotations

import atexit
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from orchestration.lib.marts import quality

_worker: ProcessPoolExecutor | None = None
_warm: Future | None = None


def start() -> None:
    """Spawn the worker and let it import great_expectations now (once per process; later calls do nothing)."""
    global _worker, _warm
    if _worker is None:
        # spawn, not fork: a fork of a process with dbt's and DuckDB's threads may copy a held lock
        _worker = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        _warm = _worker.submit(_import_great_expectations)
        atexit.register(stop)


def check_published_marts(marts_dir: Path, docs_dir: Path, **options) -> list[quality.MartCheckResult]:
    """`quality.check_published_marts`, in the worker when one was started, else here."""
    if _worker is None:
        return quality.check_published_marts(marts_dir, docs_dir, **options)
    try:
        return _worker.submit(quality.check_published_marts, marts_dir, docs_dir, **options).result()
    finally:
        stop(wait=False)  # one validation per run; the worker's own exit (~1 s of teardown) need not be waited for


def stop(wait: bool = True) -> None:
    global _worker, _warm
    if _worker is not None:
        _worker.shutdown(wait=wait, cancel_futures=True)
    _worker = _warm = None


def _import_great_expectations() -> None:
    import great_expectations  # noqa: F401
