"""great-expectations in a process of its own, started before it is needed (while dbt builds, or from a small
drop's landing), so its import costs no wall time.

Importing great_expectations takes ~3 s of CPU in every run that validates a mart, more than the validation
itself. Imported in a worker while dbt builds, it overlaps the build (dbt's worker process, or its thread in the
Dagster process where none was spawned) instead of adding to the publishing step. `start()` (called by the landing
when a small drop's new files leave a core idle, `defs/studio.py`, else by the dbt step when it has something to
build) spawns one worker that imports GE at once; a dbt step that built nothing `discard()`s it. Then
`check_published_marts()` validates in that worker, or in this process when none is there (a test, `make report`, a
run where dbt built nothing). Same function, same arguments, same results either way: the worker only moves where it
runs. The publishing step `submit`s the validation as soon as the files are final, so it runs while the report is
drawn in the Dagster process.
"""

from __future__ import annotations

import atexit
import logging
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from orchestration.lib.core import collector
from orchestration.lib.core.workers import worker_pool
from orchestration.lib.marts import quality

log = logging.getLogger(__name__)
_worker: ProcessPoolExecutor | None = None
_warm: Future | None = None
_pending: tuple[tuple, Future] | None = None  # the validation `submit` started: its arguments and its result
# Whether `start` spawns the worker. A process that runs the pipeline many times (the test suite) sets it off:
# there GE is imported once, in the process, where a worker per run would import it again in every run.
spawn_worker = True


def start() -> None:
    """Spawn the worker and let it import great_expectations now (once per process; later calls do nothing), unless
    `spawn_worker` is off."""
    global _worker, _warm
    if _worker is None and spawn_worker:
        _worker = worker_pool(1)
        _warm = _worker.submit(_import_great_expectations)
        atexit.register(stop)


def submit(marts_dir: Path, docs_dir: Path, **options) -> None:
    """Start validating in the worker, if one was started, as soon as the marts are published: the report is
    drawn meanwhile (its step runs before the check's), and `check_published_marts` collects the result."""
    global _pending
    if _worker is None:
        return
    try:
        _pending = ((Path(marts_dir), Path(docs_dir), options), _worker.submit(_check, marts_dir, docs_dir, options))
    except BrokenProcessPool:  # the worker died since `start` (memory, a signal): `check_published_marts` runs here
        _lost_worker()


def check_published_marts(marts_dir: Path, docs_dir: Path, **options) -> list[quality.MartCheckResult]:
    """`quality.check_published_marts`: the validation `submit` started for the same folders, else one in the
    worker when one was started, else here."""
    global _pending
    pending, _pending = _pending, None
    if _worker is None:
        return quality.check_published_marts(marts_dir, docs_dir, **options)
    try:
        if pending is not None and pending[0] == (Path(marts_dir), Path(docs_dir), options):
            return pending[1].result()
        return _worker.submit(_check, marts_dir, docs_dir, options).result()
    except BrokenProcessPool:  # the worker died (memory, a signal): validate here, as without one
        _lost_worker()
        return quality.check_published_marts(marts_dir, docs_dir, **options)
    finally:
        stop()  # one validation per run: give its memory back


def discard() -> None:
    """Stop a worker no validation will use (the dbt step built nothing, or failed) at once: killed, not waited for,
    as it may still be importing GE (a validation then runs here, as without a worker)."""
    global _worker, _warm, _pending
    if _worker is None:
        return
    processes = list((getattr(_worker, "_processes", None) or {}).values())
    _worker.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    _worker = _warm = _pending = None


def _lost_worker() -> None:
    log.warning("the great-expectations worker stopped unexpectedly; validating in this process")
    stop()


def stop() -> None:
    global _worker, _warm, _pending
    if _worker is not None:
        _worker.shutdown(wait=True, cancel_futures=True)  # quick: the worker skips its teardown (core/workers.py)
    _worker = _warm = _pending = None


def _check(marts_dir: Path, docs_dir: Path, options: dict) -> list[quality.MartCheckResult]:
    return quality.check_published_marts(marts_dir, docs_dir, **options)


def _import_great_expectations() -> None:
    # The worker's start-up (lib/core/collector.py): full collections wait for the import (five of them walked its
    # modules, 0.59 s, freeing next to nothing), and the modules, which live as long as the worker, are frozen out of
    # later ones, which would otherwise walk them again while the marts are validated (~0.1-0.2 s at 300 accounts).
    collector.defer_until_started()
    try:
        import great_expectations  # noqa: F401
    finally:
        collector.started()
