"""A `tiktok-live-log/1` event log (docs/live.md section 1) → one frame of events, plus its session.

One log file is one document. Structural problems quarantine it and name the line: a line that is not
JSON, not an object, lacks a common field, carries another `format`, a value of the wrong kind, or a
second `session_id`. Two things are not errors: a trailing partial line (the recorder was killed
mid-write) is dropped with a flag, and an unknown `type` is kept (the contract flags it).
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.lib.core.containers import RefusedArchive
from orchestration.lib.live.compressed import gunzip_capped
from orchestration.lib.live.documents import LiveDocument, clip
from orchestration.lib.live.log_columns import clean_log_columns
from orchestration.lib.live.sessions import empty_connections, empty_sessions, session_frames
from schemas.live_files import (
    EVENT_COLUMNS,
    EVENT_FIELDS,
    LOG_FORMAT,
    MAX_EPOCH_MS,
    NULLABLE_RECORD_FIELDS,
    REQUIRED_RECORD_FIELDS,
)

MAX_LINE_ISSUES = 20  # past this many bad lines the file is plainly not a log: stop listing

_INT_COLUMNS = tuple(column for column, kind in EVENT_FIELDS.values() if kind == "int")
_TIME_COLUMNS = tuple(column for column, kind in EVENT_FIELDS.values() if kind == "epoch_ms")
_BOOL_COLUMNS = tuple(column for column, kind in EVENT_FIELDS.values() if kind == "bool")


@dataclass
class LiveLog:
    document: LiveDocument
    events: pd.DataFrame  # document_id, source_row (the line number), then EVENT_COLUMNS
    sessions: pd.DataFrame  # one row: the recording (see `sessions`)
    connections: pd.DataFrame  # one row per websocket connection


class _BadLine(ValueError):
    def __init__(self, rule: str, message: str, column: str | None = None, value: object = None):
        super().__init__(message)
        self.rule, self.message, self.column, self.value = rule, message, column, value


def read_live_log(
    data: bytes,
    *,
    document_id: str,
    file_name: str,
    sidecar: bytes | None = None,
    sidecar_name: str | None = None,
) -> LiveLog:
    """Read one log (plain or `.gz`) and, when given, its `.session.json` sidecar."""
    doc = LiveDocument(document_id, file_name, kind="live_log")
    text = _inflate(doc, data)
    if text is not None and text.startswith(codecs.BOM_UTF8):  # a Windows tool's save (PowerShell, Notepad)
        text = text[len(codecs.BOM_UTF8) :]
    clean = clean_log_columns(text, _DECODER.decode) if text is not None else None
    if clean is None:  # some line needs a closer look: read record by record, naming what is wrong
        rows = _parse_lines(doc, text) if text is not None else []
        if not rows and not doc.quarantined:
            doc.fail("not_empty", "the log holds no records")
        if doc.quarantined:
            return LiveLog(doc, empty_events(), empty_sessions(), empty_connections())
        clean = [row["source_row"] for row in rows], {c: [row[c] for row in rows] for c in EVENT_COLUMNS}
    events = events_frame(document_id, *clean)
    sessions, connections = session_frames(doc, events, sidecar, sidecar_name)
    if doc.quarantined:
        return LiveLog(doc, empty_events(), empty_sessions(), empty_connections())
    return LiveLog(doc, events, sessions, connections)


_GZIP_MAGIC = b"\x1f\x8b"


def _inflate(doc: LiveDocument, data: bytes) -> bytes | None:
    """A `.gz` name or gzip's magic bytes (a compressed log saved as `.jsonl`) mean gzip."""
    if not (doc.file_name.lower().endswith(".gz") or data[:2] == _GZIP_MAGIC):
        return data
    try:
        inflated = gunzip_capped(data)
    except RefusedArchive as refused:
        doc.fail("safe_gzip", f"gzip log refused: {refused}")
        return None
    if not inflated.complete:
        doc.flag("gzip_complete", "the gzip stream ends early (the recorder stopped mid-write): read what was written")
    return inflated.data


def _cut_record(raw: bytes) -> bool:
    """The start of a JSON record without its end: what a write stopped mid-line leaves."""
    line = raw.strip()
    return line.startswith(b"{") and not line.endswith(b"}")


def _parse_lines(doc: LiveDocument, text: bytes) -> list[dict]:
    """Typed records keyed by events column, each with its line number as `source_row`."""
    lines = text.split(b"\n")
    ends_with_newline = text.endswith(b"\n")
    last = max((n for n, raw in enumerate(lines, start=1) if raw.strip()), default=0)
    rows: list[dict] = []
    session_id = None
    bad_lines = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = _parse_line(raw)
        except _BadLine as bad:
            # Cut short = the last line, not even JSON, and without its newline or its closing brace (an editor
            # that saved the .part file added a newline after the cut); a whole record with a bad field is bad.
            if number == last and bad.rule in ("json", "utf8") and (not ends_with_newline or _cut_record(raw)):
                doc.flag(
                    "partial_last_line",
                    f"the last line is cut short ({bad.message}): dropped, the recorder stopped mid-write",
                    row=number,
                    value=clip(raw.decode("utf-8", "replace")),
                )
                break
            doc.fail(bad.rule, f"line {number}: {bad.message}", row=number, column=bad.column, value=_shown(bad))
            bad_lines += 1
            if bad_lines >= MAX_LINE_ISSUES:
                doc.fail("too_many_bad_lines", f"stopped after {MAX_LINE_ISSUES} bad lines: is this a LIVE log?")
                break
            continue
        if session_id is None:
            session_id = row["session_id"]
        elif row["session_id"] != session_id:
            doc.fail(
                "one_session_per_file",
                f"line {number}: session_id {row['session_id']!r} after {session_id!r}: one file holds one "
                "recording (were two logs joined?)",
                row=number,
                column="session_id",
                value=clip(row["session_id"]),
            )
            break
        row["source_row"] = number
        rows.append(row)
    return rows


def _shown(bad: _BadLine) -> str | None:
    return None if bad.value is None else clip(bad.value)


def _parse_line(raw: bytes) -> dict:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _BadLine("utf8", f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        record = _DECODER.decode(line)
    except (json.JSONDecodeError, ValueError, RecursionError) as error:  # RecursionError: nested past the limit
        message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        where = f" at column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        raise _BadLine("json", f"not valid JSON ({message}{where})", value=line) from None
    if not isinstance(record, dict):
        raise _BadLine("json_object", f"a JSON {type(record).__name__}, not an object", value=line)
    missing = [f for f in REQUIRED_RECORD_FIELDS if record.get(f) is None]
    missing += [f for f in NULLABLE_RECORD_FIELDS if f not in record]
    if missing:
        raise _BadLine(
            "common_fields",
            f"lacks the common field(s) {', '.join(missing)} every record carries",
            column=missing[0],
            value=line,
        )
    if record["format"] != LOG_FORMAT:
        raise _BadLine(
            "format", f"format {record['format']!r} is not {LOG_FORMAT!r}", column="format", value=record["format"]
        )
    row = dict.fromkeys(EVENT_COLUMNS)
    for field, value in record.items():
        known = EVENT_FIELDS.get(field)
        if known is not None and value is not None:
            row[known[0]] = _READERS[known[1]](field, value)
    return row


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # NaN and Infinity are not JSON: refuse them


# The rules of one field's value. `log_columns._read_column` reads a clean log's columns by the plain cases of these
# same rules (its `_PLAIN_TYPES`; the epoch range the same MAX_EPOCH_MS): change both together, as
# tests/live/test_live_speed_paths.py holds each column read equal to this record-by-record reading.
def _text(field: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise _BadLine("field_type", f"{field} must be a non-empty string", column=field, value=value)
    return value


def _id(field: str, value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # capture tools write TikTok's numeric ids as numbers; JSON integers are exact
    if isinstance(value, str) and value:
        return value
    raise _BadLine("field_type", f"{field} must be an id (a string or an integer)", column=field, value=value)


def _int(field: str, value) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JavaScript writers print 12.0 for 12
    if not isinstance(value, int) or isinstance(value, bool):
        raise _BadLine("field_type", f"{field} must be an integer", column=field, value=value)
    return value


def _epoch_ms(field: str, value) -> int:
    value = _int(field, value)
    if not 0 <= value <= MAX_EPOCH_MS:
        raise _BadLine(
            "field_type", f"{field} is not epoch milliseconds between 1970 and 2100", column=field, value=value
        )
    return value


def _bool(field: str, value) -> bool:
    if not isinstance(value, bool):
        raise _BadLine("field_type", f"{field} must be true or false", column=field, value=value)
    return value


_READERS = {"text": _text, "id": _id, "int": _int, "epoch_ms": _epoch_ms, "bool": _bool}


def events_frame(document_id: str, source_rows: list[int], columns: dict[str, list]) -> pd.DataFrame:
    """The typed events frame from its columns' read values: the dtypes are the contract's, so nothing is
    coerced twice."""
    typed: dict[str, object] = {
        "document_id": pd.array([document_id] * len(source_rows), dtype="string"),
        "source_row": np.array(source_rows, dtype="int64"),
    }
    for column in EVENT_COLUMNS:
        values = columns[column]
        if column in _INT_COLUMNS or column in _TIME_COLUMNS:
            integers = _integers(values)
            if integers is None:
                return _events_frame_the_long_way(document_id, source_rows, columns)
            typed[column] = (
                pd.to_datetime(integers, unit="ms").astype("datetime64[ns]").array
                if column in _TIME_COLUMNS
                else integers
            )
        elif column in _BOOL_COLUMNS:
            typed[column] = pd.array(values, dtype="boolean")
        else:
            typed[column] = _texts(values)
    return pd.DataFrame(typed)


def _integers(values: list) -> pd.arrays.IntegerArray | None:
    """`pd.array(values, dtype="Int64")` through Arrow, a third of the time; None when Arrow does not read
    them as int64 (the long way then types them, or says why it cannot)."""
    try:
        read = pa.array(values, type=pa.int64())
    except Exception:
        return None
    # pandas fills a missing value's slot with 1: so do we, for the same bytes underneath
    return pd.arrays.IntegerArray(read.fill_null(1).to_numpy(), read.is_null().to_numpy(zero_copy_only=False))


def _texts(values: list):
    """`pd.array(values, dtype="string")` through Arrow at once (the values are text or None); anything
    Arrow refuses takes pandas' own way."""
    try:
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()))
    except Exception:
        return pd.array(values, dtype="string")


def _events_frame_the_long_way(document_id: str, source_rows: list[int], columns: dict[str, list]) -> pd.DataFrame:
    """As the events frame was first built: a row at a time, each column's dtype guessed, then typed."""
    names = ("source_row", *EVENT_COLUMNS)
    by_row = zip(source_rows, *(columns[c] for c in EVENT_COLUMNS), strict=True)
    rows = [dict(zip(names, row, strict=True)) for row in by_row]
    frame = pd.DataFrame.from_records(rows, columns=list(names))
    frame.insert(0, "document_id", document_id)
    frame["document_id"] = frame["document_id"].astype("string")
    frame["source_row"] = frame["source_row"].astype("int64")
    for column in EVENT_COLUMNS:
        values = frame[column]
        # integers typed from the read values, not the guessed column: from_records reads integers with a gap as
        # float64, which rounds one past 2**53
        if column in _INT_COLUMNS:
            frame[column] = pd.array(columns[column], dtype="Int64")
        elif column in _TIME_COLUMNS:
            milliseconds = pd.array(columns[column], dtype="Int64")
            frame[column] = pd.to_datetime(milliseconds, unit="ms").astype("datetime64[ns]")
        elif column in _BOOL_COLUMNS:
            frame[column] = pd.array(values.tolist(), dtype="boolean")
        else:
            frame[column] = values.astype("string")
    return frame


def empty_events() -> pd.DataFrame:
    return events_frame("", [], dict.fromkeys(EVENT_COLUMNS, []))
