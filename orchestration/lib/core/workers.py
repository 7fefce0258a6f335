"""Worker processes for the CPU work the Dagster process hands off (great-expectations, landing's checks).

This machine has two cores and the Dagster process's Python holds one: work that needs no shared state runs in
a pool of spawned processes (spawn, not fork: the Dagster process holds DuckDB's threads and dbt's). A
worker's own exit is made quick: its interpreter would otherwise tear down every module it imported (pandas,
pandera, great-expectations), a second or two that the pool's shutdown, and the process's exit, wait for.
Its results are sent by then, so nothing is lost.

A pool may run at a lower priority (`niceness`): the landing's check workers do, since the process handing them
work is its critical path (it hashes, links and loads what they check) and on two cores three busy processes
would slow it by a third; they still get every cycle it leaves (300 x 90 backfill landed in process: 25.9 s ->
24.7 s, the raw tables identical). The great-expectations worker does not: its import overlaps the landing or
dbt's build, and a demo run waited for it at niceness 10 (0.6 s more).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor


def worker_pool(workers: int, *, niceness: int = 0) -> ProcessPoolExecutor:
    """A pool of `workers` spawned processes, at `niceness` (Unix); shut it down with `shutdown(wait=True)`, which
    is quick."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(niceness, sys.dont_write_bytecode)
    )


def _start_worker(niceness: int, dont_write_bytecode: bool) -> None:
    # Runs first in each worker: the last exit handler it registers ends the process once the others ran.
    write_bytecode_as_parent(dont_write_bytecode)
    atexit.register(os._exit, 0)
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)


def write_bytecode_as_parent(dont_write_bytecode: bool) -> None:
    """A spawned process writes bytecode as the process that spawned it does (`sys.dont_write_bytecode`, passed
    along): spawn starts it with -B from the parent's start-up flags, which `python -m orchestration` overrides
    where PYTHONDONTWRITEBYTECODE is set (orchestration/__main__.py)."""
    sys.dont_write_bytecode = dont_write_bytecode


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: a container's limit, `taskset`), else the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
