"""The recording behind a log: one sessions row and its connections, from the sidecar or from the log.

The sidecar (`<log>.session.json`, docs/live.md) is the recorder's own account and wins when present. It
is read with its log: a sidecar of another session, or one that cannot be read, quarantines the pair
(issues name the sidecar's file), since loading either alone would attach the wrong facts. Without a
sidecar, the same facts are derived from the records: session_start / session_end, connect / disconnect.

Row lineage: a sidecar's session row is source_row 1 and its connections count from 1 in its list; a
derived session row is the line of its session_start (or its first record), a derived connection the line
of its first record.
"""

from __future__ import annotations

import json

import pandas as pd

from orchestration.lib.live.documents import LiveDocument, clip
from orchestration.lib.live.frames import records_frame
from schemas.live_files import MAX_EPOCH_MS, SESSION_FORMAT

SESSION_COLUMNS = {
    "document_id": "string",
    "source_row": "int64",
    "session_id": "string",
    "room_id": "string",
    "handle": "string",
    "recorder": "string",
    "started_at": "datetime64[ns]",
    "ended_at": "datetime64[ns]",  # session_end's time; without one, the last record's
    "ended_by": "string",
    "end_seen": "boolean",  # a live_end record was seen: the LIVE really ended while recorded
    "connection_count": "Int64",
    "reconnects": "Int64",
    "events_written": "Int64",
    "session_source": "string",  # sidecar | log
}
CONNECTION_COLUMNS = {
    "document_id": "string",
    "source_row": "int64",
    "session_id": "string",
    "connection_id": "string",
    "connected_at": "datetime64[ns]",
    "disconnected_at": "datetime64[ns]",
}


def _frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    frame = records_frame(rows, columns)
    return frame if frame is not None else _frame_the_long_way(rows, columns)


def _frame_the_long_way(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for name, dtype in columns.items():
        if dtype == "datetime64[ns]":
            frame[name] = pd.to_datetime(frame[name]).astype(dtype)
        else:
            # typed from the rows, not the guessed column: from_records reads integers with a gap as float64
            values = [row.get(name) for row in rows]
            frame[name] = pd.array(values, dtype=dtype) if dtype != "int64" else frame[name].astype(dtype)
    return frame


def empty_sessions() -> pd.DataFrame:
    return _frame([], SESSION_COLUMNS)


def empty_connections() -> pd.DataFrame:
    return _frame([], CONNECTION_COLUMNS)


def session_frames(
    doc: LiveDocument, events: pd.DataFrame, sidecar: bytes | None, sidecar_name: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if sidecar is None:
        return _derived(doc.document_id, events)
    return _from_sidecar(doc, events, sidecar, sidecar_name or f"{doc.file_name}.session.json")


def _first(series: pd.Series):
    present = series.dropna()
    return present.iloc[0] if len(present) else None


def _derived(document_id: str, events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    kind = events["event_type"]
    start, end = events[kind == "session_start"], events[kind == "session_end"]
    anchor = start if len(start) else events
    connection_ids = events["connection_id"].unique()
    session = {
        "document_id": document_id,
        "source_row": int(anchor["source_row"].iloc[0]),
        "session_id": events["session_id"].iloc[0],
        "room_id": _first(anchor["room_id"]),
        "handle": _first(start["handle"]),
        "recorder": _first(start["recorder"]),
        "started_at": start["received_at"].min() if len(start) else events["received_at"].min(),
        "ended_at": end["received_at"].max() if len(end) else events["received_at"].max(),
        "ended_by": _first(end["ended_by"].iloc[::-1]),
        "end_seen": bool((kind == "live_end").any()),
        "connection_count": len(connection_ids),
        "reconnects": max(len(connection_ids) - 1, 0),
        "events_written": len(events),
        "session_source": "log",
    }
    connections = []
    for connection_id, records in events.groupby("connection_id", sort=False):
        opened = records[records["event_type"] == "connect"]["received_at"]
        closed = records[records["event_type"] == "disconnect"]["received_at"]
        connections.append(
            {
                "document_id": document_id,
                "source_row": int(records["source_row"].iloc[0]),
                "session_id": session["session_id"],
                "connection_id": connection_id,
                "connected_at": opened.min() if len(opened) else records["received_at"].min(),
                "disconnected_at": closed.max() if len(closed) else records["received_at"].max(),
            }
        )
    return _frame([session], SESSION_COLUMNS), _frame(connections, CONNECTION_COLUMNS)


class _BadSidecar(ValueError):
    def __init__(self, rule: str, message: str, column: str | None = None, value: object = None):
        super().__init__(message)
        self.rule, self.message, self.column, self.value = rule, message, column, value


def _from_sidecar(
    doc: LiveDocument, events: pd.DataFrame, sidecar: bytes, name: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        session, connections = _read_sidecar(doc.document_id, sidecar)
    except _BadSidecar as bad:
        doc.fail(
            bad.rule, bad.message, file=name, column=bad.column, value=None if bad.value is None else clip(bad.value)
        )
        return empty_sessions(), empty_connections()
    log_session = events["session_id"].iloc[0]
    if session["session_id"] != log_session:
        doc.fail(
            "sidecar_session",
            f"the sidecar is of session {session['session_id']!r}, the log of {log_session!r}",
            file=name,
            column="session_id",
            value=clip(session["session_id"]),
        )
        return empty_sessions(), empty_connections()
    log_room = _first(events["room_id"])
    if session["room_id"] is None:
        session["room_id"] = log_room
    elif session["room_id"] != log_room:
        doc.fail(
            "sidecar_room",
            f"the sidecar names room {session['room_id']!r}, the log {log_room!r}",
            file=name,
            column="room_id",
            value=clip(session["room_id"]),
        )
        return empty_sessions(), empty_connections()
    session["recorder"] = _first(events.loc[events["event_type"] == "session_start", "recorder"])
    written = session["events_written"]
    if written is not None and written != len(events):
        doc.flag(
            "sidecar_event_count",
            f"the sidecar counts {written} records, the log holds {len(events)}: "
            + ("lines were lost" if written > len(events) else "the sidecar was written before the last records"),
            file=name,
            column="events_written",
            value=str(written),
        )
    for connection in connections:
        connection["session_id"] = session["session_id"]
    return _frame([session], SESSION_COLUMNS), _frame(connections, CONNECTION_COLUMNS)


def _read_sidecar(document_id: str, data: bytes) -> tuple[dict, list[dict]]:
    try:
        record = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _BadSidecar("sidecar_json", f"the session sidecar is not readable JSON ({error})") from None
    if not isinstance(record, dict):
        raise _BadSidecar("sidecar_json", "the session sidecar is not a JSON object")
    if record.get("format") != SESSION_FORMAT:
        raise _BadSidecar(
            "sidecar_format",
            f"format {record.get('format')!r} is not {SESSION_FORMAT!r}",
            "format",
            record.get("format"),
        )
    missing = [f for f in ("session_id", "started_at_ms", "connections") if record.get(f) is None]
    if missing:
        raise _BadSidecar("sidecar_fields", f"the sidecar lacks {', '.join(missing)}", missing[0])
    listed = record["connections"]
    if not isinstance(listed, list) or not all(isinstance(c, dict) for c in listed):
        raise _BadSidecar("sidecar_fields", "connections must be a list of objects", "connections", listed)
    session = {
        "document_id": document_id,
        "source_row": 1,
        "session_id": _get(record, "session_id", str, required=True),
        "room_id": _id(record, "room_id"),
        "handle": _get(record, "handle", str),
        "started_at": _moment(record, "started_at_ms", required=True),
        "ended_at": _moment(record, "ended_at_ms"),
        "ended_by": _get(record, "ended_by", str),
        "end_seen": _get(record, "end_seen", bool),
        "connection_count": len(listed),
        "reconnects": _count(record, "reconnects"),
        "events_written": _count(record, "events_written"),
        "session_source": "sidecar",
    }
    connections = [
        {
            "document_id": document_id,
            "source_row": position,
            "connection_id": _get(item, "connection_id", str, required=True, where=f"connections[{position - 1}]."),
            "connected_at": _moment(item, "connected_at_ms", required=True, where=f"connections[{position - 1}]."),
            "disconnected_at": _moment(item, "disconnected_at_ms", where=f"connections[{position - 1}]."),
        }
        for position, item in enumerate(listed, start=1)
    ]
    return session, connections


def _get(record: dict, field: str, kind: type, *, required: bool = False, where: str = ""):
    value = record.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)) or value == "":
        raise _BadSidecar("sidecar_field_type", f"{where}{field} must be a {kind.__name__}", where + field, value)
    return value


def _id(record: dict, field: str) -> str | None:
    value = record.get(field)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _get(record, field, str)


def _count(record: dict, field: str) -> int | None:
    return _get(record, field, int)


def _moment(record: dict, field: str, *, required: bool = False, where: str = "") -> pd.Timestamp | None:
    milliseconds = _get(record, field, int, required=required, where=where)
    if milliseconds is None:
        return None
    if not 0 <= milliseconds <= MAX_EPOCH_MS:
        raise _BadSidecar(
            "sidecar_field_type", f"{where}{field} is not epoch milliseconds", where + field, milliseconds
        )
    return pd.Timestamp(milliseconds, unit="ms")
