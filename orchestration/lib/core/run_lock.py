"""One run at a time: an advisory lock file beside the working DuckDB.

DuckDB allows one writer per file; a second run would otherwise die half-way with DuckDB's own lock
error. Whoever writes the warehouse (the CLI's `run` / `replay`, and each Dagster asset that opens it)
holds `<data>/warehouse/run.lock` with `fcntl.flock`, which the OS releases when the process ends, even
on a crash or a kill: a lock is never stale. The file records the holder's pid and start time, so the
one who has to wait can say who it waits for.

The lock is re-entrant within a process: the CLI takes it, then runs the Dagster job in the same
process, whose assets take it again without blocking themselves.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = "run.lock"


class WarehouseBusy(RuntimeError):
    """Another process holds the run lock; str() is the one line to show."""

    def __init__(self, holder: str):
        super().__init__(f"another run is in progress since {holder}; try again when it ends")


_guard = threading.Lock()
_held: dict[Path, tuple[int, int]] = {}  # lock path → (file descriptor, depth) held by this process


def lock_path(warehouse_dir: Path) -> Path:
    return warehouse_dir / LOCK_NAME


def describe_holder(path: Path) -> str:
    """'<start time> (pid N)' as the holder wrote it, or a vaguer phrase while it has not yet."""
    try:
        pid, started = path.read_text(encoding="utf-8").split(maxsplit=1)
        return f"{started.strip()} (pid {int(pid)})"
    except (OSError, ValueError):
        return "an unknown time (pid unknown)"


@contextmanager
def hold_run_lock(warehouse_dir: Path, *, wait_seconds: float = 0.0, poll_seconds: float = 0.2) -> Iterator[None]:
    """Hold the run lock for the block; wait up to `wait_seconds` for it, then raise WarehouseBusy."""
    path = lock_path(warehouse_dir).resolve()
    with _guard:
        if path in _held:  # this process already holds it
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if not reentered:
        fd = _acquire(path, wait_seconds, poll_seconds)
        with _guard:
            _held[path] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[path]
            if depth > 1:
                _held[path] = (fd, depth - 1)
            else:
                del _held[path]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


def _acquire(path: Path, wait_seconds: float, poll_seconds: float) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise WarehouseBusy(describe_holder(path)) from None
            time.sleep(poll_seconds)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {started}\n".encode(), 0)
    return fd
