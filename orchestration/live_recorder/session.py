"""One recording: client events in, log lines out, and a clean finish however it stops.

The session knows nothing of asyncio or TikTokLive: `on_event(name, event)` takes every event the client
emits (by class name), and `finish(ended_by)` closes it, from a `finally`, on every way out: the LIVE's
end, Ctrl-C / SIGTERM, a disconnect with no reconnect, an error. Nothing is written before the first
`ConnectEvent`, which carries the room id the log is named after.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from orchestration.live_recorder.handlers import event_fields, recorder_fields
from orchestration.live_recorder.writer import SESSION_FORMAT, LogWriter, log_file_name, sidecar_path, write_sidecar

ENDED_BY = ("live_end", "interrupted", "disconnected", "error")
_HANDLE = re.compile(r"^[a-z0-9_][a-z0-9._]{0,63}$")  # the Studio inbox's rule; no leading dot (a hidden folder)


def parse_handle(raw: str) -> str:
    """'@Some.Creator' → 'some.creator'; anything else is refused with the rule it broke."""
    handle = raw.strip().lstrip("@").lower()
    if not _HANDLE.match(handle):
        raise ValueError(
            f"{raw!r} is not a TikTok handle: letters, digits, '_' and '.', at most 64, not starting with '.'"
        )
    return handle


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def random_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Connection:
    connection_id: str
    connected_at_ms: int
    disconnected_at_ms: int | None = None


@dataclass(frozen=True)
class FinishedRecording:
    log_path: Path
    sidecar_path: Path
    ended_by: str
    events_written: int
    reconnects: int


class RecordingSession:
    def __init__(
        self,
        handle: str,
        out_dir: Path,
        *,
        recorder: str,
        compress: bool = False,
        now_ms: Callable[[], int] = wall_clock_ms,
        new_id: Callable[[], str] = random_id,
    ) -> None:
        self.handle = handle
        self.out_dir = out_dir
        self.recorder = recorder  # name/version for the session_start record
        self.compress = compress
        self._now_ms = now_ms
        self._new_id = new_id
        self.session_id = new_id()
        self.room_id: str | None = None
        self.started_at_ms: int | None = None
        self.connections: list[Connection] = []
        self.end_seen = False
        self.ended_by: str | None = None
        self._writer: LogWriter | None = None

    @property
    def started(self) -> bool:
        return self._writer is not None

    @property
    def reconnects(self) -> int:
        return max(len(self.connections) - 1, 0)

    def stop(self, ended_by: str) -> None:
        """Note why the recording stops; the first cause wins (Ctrl-C after the LIVE's end stays `live_end`)."""
        if ended_by not in ENDED_BY:
            raise ValueError(f"ended_by {ended_by!r}: expected one of {ENDED_BY}")
        if self.ended_by is None:
            self.ended_by = ended_by

    def on_event(self, event_name: str, event: Any) -> None:
        """One event from the client, named by its TikTokLive class (`ConnectEvent`, `GiftEvent`, ...)."""
        received_at_ms = self._now_ms()
        if event_name == "ConnectEvent":
            self._open_connection(event.room_id, received_at_ms)
        elif event_name == "DisconnectEvent":
            self._close_connection(received_at_ms)
        else:
            self._write(event_fields(event_name, event, self.handle), received_at_ms)
            if event_name == "LiveEndEvent":
                self.end_seen = True
                self.stop("live_end")

    def finish(self, ended_by: str) -> FinishedRecording | None:
        """Close the open connection, write `session_end`, fsync, write the sidecar, publish the log.

        None when nothing was recorded (the LIVE never connected). The sidecar is written even when a
        line cannot be (disk full); the log is then left as `.part` and the error propagates.
        """
        self.stop(ended_by)
        if self._writer is None:
            return None
        ended_at_ms = self._now_ms()
        try:
            self._close_connection(ended_at_ms)
            self._write(recorder_fields("session_end", ended_by=self.ended_by), ended_at_ms)
        finally:
            try:
                self._writer.close()
            finally:
                write_sidecar(sidecar_path(self._writer.final_path), self.sidecar(ended_at_ms))
        log_path = self._writer.publish()
        return FinishedRecording(
            log_path=log_path,
            sidecar_path=sidecar_path(log_path),
            ended_by=self.ended_by or ended_by,
            events_written=self._writer.lines_written,
            reconnects=self.reconnects,
        )

    def sidecar(self, ended_at_ms: int | None) -> dict[str, Any]:
        return {
            "format": SESSION_FORMAT,
            "session_id": self.session_id,
            "handle": self.handle,
            "room_id": self.room_id,
            "log_file": None if self._writer is None else self._writer.final_path.name,
            "started_at_ms": self.started_at_ms,
            "ended_at_ms": ended_at_ms,
            "ended_by": self.ended_by,
            "end_seen": self.end_seen,
            "connections": [asdict(connection) for connection in self.connections],
            "reconnects": self.reconnects,
            "events_written": 0 if self._writer is None else self._writer.lines_written,
        }

    def _open_connection(self, room_id: Any, at_ms: int) -> None:
        room = None if room_id in (None, 0, "") else str(room_id)
        if room is None:
            raise ValueError("ConnectEvent without a room id: cannot name the LIVE log")
        self._close_connection(at_ms)  # a connect without a disconnect first: close the old one
        connection = Connection(self._new_id(), at_ms)
        if self._writer is None:
            self.room_id, self.started_at_ms = room, at_ms
            path = self.out_dir / log_file_name(self.handle, at_ms, room, compress=self.compress)
            self._writer = LogWriter(path, self.session_id)
            self.connections.append(connection)
            self._write(recorder_fields("session_start", handle=self.handle, recorder=self.recorder), at_ms)
        else:
            self.connections.append(connection)
        self._write(recorder_fields("connect"), at_ms)

    def _close_connection(self, at_ms: int) -> None:
        if not self.connections or self.connections[-1].disconnected_at_ms is not None:
            return  # nothing open: the client's DisconnectEvent after our own close, or no connection yet
        # Why this connection ends, as far as the recorder knows when it closes.
        reason = self.ended_by or "connection_closed"
        self._write(recorder_fields("disconnect", reason=reason), at_ms)
        self.connections[-1].disconnected_at_ms = at_ms

    def _write(self, fields: dict[str, Any], received_at_ms: int) -> None:
        if self._writer is None:
            raise RuntimeError(f"a {fields['type']!r} event arrived before ConnectEvent: no LIVE log is open yet")
        fields = {**fields, "room_id": fields["room_id"] or self.room_id}
        self._writer.write(fields, connection_id=self.connections[-1].connection_id, received_at_ms=received_at_ms)
