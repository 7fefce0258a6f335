"""Whether a stop signal (Ctrl-C's SIGINT, a scheduler's or `kill`'s SIGTERM) reached the CLI during a run.

A run a stop signal reached is told as stopped, not failed, whatever error its step carried: a signal landing while
DuckDB executes a query makes DuckDB raise its own error ("Query interrupted", "INTERRUPT Error: Interrupted!")
instead of Dagster's interrupt, and the step fails with that (a reviewer saw 8 of 26 timed Ctrl-Cs told as
failures, with a run_failed alert).

A Python handler cannot keep the record: `execute_in_process` replaces the SIGINT and SIGTERM handlers for the
run's length and never calls the ones it replaced. The record is the interpreter's wakeup fd instead, which gets
the number of every signal that has a Python handler, whoever's it is, and changes no handling. (A signal ignored,
SIG_IGN, is not recorded: it stopped nothing in this process.)
"""

from __future__ import annotations

import re
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# how each is told, and its exit code: a shell's for a command the signal ended (128 + its number)
STOPS = {signal.SIGINT: ("Ctrl-C", 130), signal.SIGTERM: ("SIGTERM", 143)}
# a step failed with the interrupt itself: Ctrl-C between DuckDB queries, or dbt stopped (defs/dbt_run.py)
INTERRUPTS = ("KeyboardInterrupt", "DagsterExecutionInterruptedError")
# DuckDB's error for a query a signal interrupted: its InterruptException, or the RuntimeError "Query interrupted"
_DUCKDB_INTERRUPT = re.compile(r"^InterruptException:|\bQuery interrupted\b|\bINTERRUPT Error: Interrupted!")


class SignalRecord:
    """The stop signals that arrived while `recording`, in order; readable from any thread, also after it."""

    def __init__(self, reader: socket.socket | None) -> None:
        self._reader = reader
        self._arrived: list[signal.Signals] = []
        self._lock = threading.Lock()

    def first(self) -> signal.Signals | None:
        with self._lock:
            self._drain()
            return self._arrived[0] if self._arrived else None

    def _drain(self) -> None:
        while self._reader is not None:
            try:
                numbers = self._reader.recv(256)
            except OSError:  # BlockingIOError: nothing more
                return
            if not numbers:
                return
            self._arrived += [signal.Signals(n) for n in numbers if n in STOPS]

    def _close(self) -> None:
        with self._lock:
            self._drain()
            self._reader = None


_RECORDING: list[SignalRecord] = []  # the record of the run under way in this process (`recording`), if any


def stop_arrived() -> signal.Signals | None:
    """The stop signal that reached the run under way, if one did: a step about to start checks it (DuckDB answers a
    signal with its own error, so Dagster's executor runs the other root step on, e.g. the API pulls after Ctrl-C)."""
    return _RECORDING[-1].first() if _RECORDING else None


@contextmanager
def recording() -> Iterator[SignalRecord]:
    """Record the stop signals that reach this process meanwhile. Only the main thread can (Python's rule): in
    another one, nothing is recorded."""
    if threading.current_thread() is not threading.main_thread():
        yield SignalRecord(None)
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)  # the interpreter's signal handler must never block on it
    record = SignalRecord(reader)
    # Dagster maps SIGTERM to SIGINT's handler when a run ends (dagster/_utils/interrupts.py): put it back, so a
    # SIGTERM after the run ends the process as before it, not as a KeyboardInterrupt
    sigterm = signal.getsignal(signal.SIGTERM)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    _RECORDING.append(record)
    try:
        yield record
    finally:
        _RECORDING.remove(record)
        signal.set_wakeup_fd(previous)
        if sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)
        record._close()
        reader.close()
        writer.close()


@dataclass(frozen=True)
class Stop:
    told: str  # "Ctrl-C" or "SIGTERM"
    exit_code: int
    steps: list[str]  # the steps it stopped


def stop_of(result, record: SignalRecord | None) -> Stop | None:
    """The stop of a Dagster run (its execution result), None when it was not stopped. Stopped: it did not succeed
    and every failed step failed with an interrupt anywhere in its error's chain: KeyboardInterrupt or Dagster's, and
    once a stop signal arrived, DuckDB's own ("Query interrupted", "INTERRUPT Error: Interrupted!"). Any other error
    makes the run a failure, told and alerted as one, a signal or not: a step that failed for its own reasons before
    the signal, or ran on after it (DuckDB's error does not stop Dagster's executor) and then failed (review). So a
    stop whose step left an error of another kind is told as a failure: a false alarm rather than a missed one."""
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    arrived = record.first() if record is not None else None
    if result.success or not failures and arrived is None:
        return None
    if not all(_interrupted(e.event_specific_data.error, arrived is not None) for e in failures):
        return None
    told, exit_code = STOPS[arrived if arrived is not None else signal.SIGINT]  # none recorded: a Ctrl-C
    return Stop(told, exit_code, [e.step_key for e in failures])


def _interrupted(error, signalled: bool) -> bool:
    """Whether a step's error (Dagster's SerializableErrorInfo) is, or was caused by, an interrupt: KeyboardInterrupt
    or Dagster's, and once a stop signal arrived, DuckDB's (alone, it is code interrupting a query)."""
    seen = [error]
    while seen:
        error = seen.pop()
        if error is None:
            continue
        if error.cls_name in INTERRUPTS or signalled and _DUCKDB_INTERRUPT.search(f"{error.cls_name}: {error.message}"):
            return True
        seen += [error.cause, error.context]
    return False
