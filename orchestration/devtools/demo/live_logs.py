"""A simulated LIVE recorded: the `tiktok-live-log/1` lines and the session sidecar, as the recorder writes them.

Mirrors `orchestration/live_recorder` (`session.RecordingSession`, `writer.LogWriter`), which the demo may
not import (only the CLI reaches the recorder): the envelope `format, session_id, room_id, connection_id,
seq, type, received_at_ms` first, then the handler's fields; compact JSON, one line each, `\\n`-ended;
gzip with no file name and mtime 0, flushed after every line (`Z_SYNC_FLUSH`, as the recorder flushes);
the sidecar as `json.dump(indent=2)` plus a newline. Every LIVE ends as a recorded one does: `live_end`,
then the recorder's `disconnect` (reason `live_end`) and `session_end` (`ended_by` `live_end`).

A reconnect: the connection drops (`disconnect`, reason `connection_closed`), the recorder reconnects to
the same room 5 s later with a new `connection_id`, and TikTok replays the last `REPLAYED` events verbatim
(same `msg_id`, same TikTok time; a new `seq`, receipt and connection), then what happened meanwhile.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from orchestration.devtools.demo.live_sim import LivePlan

LOG_FORMAT = "tiktok-live-log/1"
SESSION_FORMAT = "tiktok-live-session/1"
RECORDER = "tiktok-live-recorder/demo"
REPLAYED = 50  # events TikTok sends again after the reconnect
RECONNECT_WAIT_MS = 5_000  # the recorder's first reconnect wait


@dataclass(frozen=True)
class RecordedLive:
    plan: LivePlan
    name: str  # `<handle>_<UTC yyyymmddTHHMMSSZ>_<room_id>.jsonl[.gz]`
    sidecar_name: str
    log: bytes
    sidecar: bytes
    ended_at_ms: int
    lines: int
    replayed_msg_ids: tuple[str, ...]


def log_file_name(handle: str, started_at_ms: int, room_id: str, *, compress: bool) -> str:
    started = datetime.fromtimestamp(started_at_ms / 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{handle}_{started}_{room_id}.jsonl" + (".gz" if compress else "")


def _hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"  # the recorder's uuid4().hex


def record_live(plan: LivePlan, events: list[tuple[int, dict]], seed: int) -> RecordedLive:
    """Write `events` (from `simulate_live`) as the recorder would have received them."""
    rng = random.Random(f"tiktok-demo:{seed}:{plan.seed}:recording")
    session_id = _hex_id(rng)
    connected_ms = plan.start_ms + int(plan.recorder_lag_s * 1000)
    name = log_file_name(plan.handle, connected_ms, plan.room_id, compress=plan.gzip)
    records: list[dict] = []
    connections: list[dict] = []

    def write(fields: dict, received_at_ms: int) -> dict:
        envelope = {
            "format": LOG_FORMAT,
            "session_id": session_id,
            "room_id": plan.room_id,
            "connection_id": connections[-1]["connection_id"],
            "seq": len(records) + 1,
            "type": fields["type"],
            "received_at_ms": received_at_ms,
        }
        record = {**envelope, **{k: v for k, v in fields.items() if k not in envelope}}
        records.append(record)
        return record

    def recorder(kind: str, **extra) -> dict:
        return {"type": kind, "timestamp_ms": None, "msg_id": None, "user_id": None, **extra}

    def connect(at_ms: int) -> None:
        connections.append({"connection_id": _hex_id(rng), "connected_at_ms": at_ms, "disconnected_at_ms": None})
        if len(connections) == 1:
            write(recorder("session_start", handle=plan.handle, recorder=RECORDER), at_ms)
        write(recorder("connect"), at_ms)

    def disconnect(at_ms: int, reason: str) -> None:
        write(recorder("disconnect", reason=reason), at_ms)
        connections[-1]["disconnected_at_ms"] = at_ms

    connect(connected_ms)
    drop_ms = None if plan.reconnect_at_s is None else plan.start_ms + int(plan.reconnect_at_s * 1000)
    pending = deque(events)
    replayed: list[str] = []
    last_ms = connected_ms
    while pending:
        at_ms, fields = pending.popleft()
        if drop_ms is not None and at_ms >= drop_ms:
            # The connection drops; nothing arrives until the recorder is back on the same room.
            disconnect(drop_ms, "connection_closed")
            back_ms = drop_ms + RECONNECT_WAIT_MS + rng.randrange(400, 1200)
            connect(back_ms)
            sent = [r for r in records if r["msg_id"] is not None][-REPLAYED:]
            replayed = [r["msg_id"] for r in sent]
            missed = [(at_ms, fields)] + [e for e in pending if e[0] < back_ms]
            pending = deque(e for e in pending if e[0] >= back_ms)
            burst = [{k: v for k, v in r.items() if k in fields_of(r)} for r in sent] + [f for _, f in missed]
            last_ms = back_ms + rng.randrange(200, 600)
            for k, again in enumerate(burst):  # the replay arrives as one quick burst
                write(again, last_ms + 12 * k)
            last_ms += 12 * len(burst)
            drop_ms = None
            continue
        last_ms = max(at_ms, last_ms)
        write(fields, last_ms)
    ended_ms = last_ms + rng.randrange(300, 1200)
    disconnect(ended_ms, "live_end")
    write(recorder("session_end", ended_by="live_end"), ended_ms)

    lines = [(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8") for r in records]
    sidecar = {
        "format": SESSION_FORMAT,
        "session_id": session_id,
        "handle": plan.handle,
        "room_id": plan.room_id,
        "log_file": name,
        "started_at_ms": connected_ms,
        "ended_at_ms": ended_ms,
        "ended_by": "live_end",
        "end_seen": True,
        "connections": connections,
        "reconnects": len(connections) - 1,
        "events_written": len(records),
    }
    return RecordedLive(
        plan=plan,
        name=name,
        sidecar_name=name.removesuffix(".gz").removesuffix(".jsonl") + ".session.json",
        log=_gzip_lines(lines) if plan.gzip else b"".join(lines),
        sidecar=(json.dumps(sidecar, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        ended_at_ms=ended_ms,
        lines=len(records),
        replayed_msg_ids=tuple(replayed),
    )


_ENVELOPE_ONLY = ("format", "session_id", "room_id", "connection_id", "seq", "received_at_ms")


def fields_of(record: dict) -> list[str]:
    """The keys of a written record that came from TikTok's event (the envelope is the recording's)."""
    return [k for k in record if k not in _ENVELOPE_ONLY]


def _gzip_lines(lines: list[bytes]) -> bytes:
    """As `LogWriter` with `--gzip`: no file name in the header, mtime 0, a sync flush after each line."""
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as stream:
        for line in lines:
            stream.write(line)
            stream.flush()
    return raw.getvalue()
