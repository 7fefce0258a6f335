"""When Python's full garbage collections run in the pipeline's process.

A full collection walks every object of the process: in the Dagster process ~1 M (Dagster's, dbt's manifest, the
definitions), 0.05-0.2 s each. Python starts one whenever the objects that survived younger collections grew by a
quarter, which is what imports, building the definitions and a landing do all along, while nearly everything they
make lives on: on the demo's first `make run`, six full collections during start-up took 0.52 s and freed 0-40
objects each. So:

- `full_collections_deferred` (a decorator and a context manager) lets only the young collections run inside it;
- `python -m orchestration run` defers them from its first line until its definitions and Dagster instance are
  loaded (`defer_until_started`), then `started()` moves every object alive then to the permanent generation
  (`gc.freeze`), which later full collections (Dagster's events, publishing) no longer walk; the dbt and
  great-expectations workers do the same for their imports. Nearly all of those objects live as long as the
  process; the few unreachable ones frozen with them (~1,200 of ~340,000 in the Dagster process) are kept until it
  exits, seconds later. A process that did not defer (a test calling `run_pipeline` again and again) is left as it
  is: freezing there would keep each run's leftovers for the life of the process.
"""

from __future__ import annotations

import contextlib
import gc

NO_FULL_COLLECTION = 1 << 30  # young (generation 1) collections before a full one is even considered

_thresholds_before_start: tuple[int, int, int] | None = None


@contextlib.contextmanager
def full_collections_deferred():
    """Inside: young objects are collected as usual, full collections wait; afterwards they resume."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], NO_FULL_COLLECTION)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def defer_until_started() -> None:
    """The process's start-up: full collections wait until `started()` (call it first thing)."""
    global _thresholds_before_start
    if _thresholds_before_start is None:
        _thresholds_before_start = gc.get_threshold()
        gc.set_threshold(_thresholds_before_start[0], _thresholds_before_start[1], NO_FULL_COLLECTION)


def started() -> bool:
    """Start-up is over: when it was deferred, freeze what is alive and let full collections run again; whether
    it was."""
    global _thresholds_before_start
    if _thresholds_before_start is None:
        return False
    gc.freeze()
    gc.set_threshold(*_thresholds_before_start)
    _thresholds_before_start = None
    return True
