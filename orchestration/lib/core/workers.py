"""Worker processes for the CPU work the Dagster process hands off (great-expectations, landing's checks).

This machine has two cores and the Dagster process's Python holds one: work that needs no shared state runs in
a pool of spawned processes (spawn, not fork: the Dagster process holds DuckDB's threads and dbt's). A
worker's own exit is made quick: its interpreter would otherwise tear down every module it imported (pandas,
pandera, great-expectations), a second or two that the pool's shutdown, and the process's exit, wait for.
Its results are sent by then, so nothing is lost.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` spawned processes; shut it down with `shutdown(wait=True)`, which is quick."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_quickly)


def _exit_quickly() -> None:
    # Runs first in each worker: the last exit handler it registers ends the process once the others ran.
    atexit.register(os._exit, 0)
