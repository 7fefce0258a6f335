"""Worker processes for the CPU work the Dagster process hands off (great-expectations, landing's checks).

This machine has two cores and the Dagster process's Python holds one: work that needs no shared state runs in
a pool of spawned processes (spawn, not fork: the Dagster process holds DuckDB's threads and dbt's). A
worker's own exit is made quick: its interpreter would otherwise tear down every module it imported (pandas,
pandera, great-expectations), a second or two that the pool's shutdown, and the process's exit, wait for.
Its results are sent by then, so nothing is lost.

Workers run at a lower priority (`WORKER_NICENESS`): the process that hands them work is the critical path (the
landing process hashes, links and loads what they check; the Dagster process draws the report while one
validates), and on two cores three busy processes would slow it by a third. The workers still get every cycle
it leaves (300 x 90 backfill landed in process: 25.9 s -> 24.7 s, the raw tables identical).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

WORKER_NICENESS = 10


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` spawned processes; shut it down with `shutdown(wait=True)`, which is quick."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_quickly)


def _exit_quickly() -> None:
    # Runs first in each worker: the last exit handler it registers ends the process once the others ran.
    atexit.register(os._exit, 0)
    if hasattr(os, "nice"):  # Unix: the process handing out the work goes first (see the module docstring)
        os.nice(WORKER_NICENESS)
