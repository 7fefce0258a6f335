"""A clean event log read a column at a time: the fast path of `event_log`, for the common case.

`event_log` reads a log record by record, a reader call per value, so that the first bad line is named
with its rule. Almost every log has no bad line at all: here its records are decoded line by line with
the same JSON decoder, then each field is checked a column at a time (the set of value types it holds,
its empty strings, its range) and read with no call per value. Anything this path is not sure of, from a
line that is not JSON to a float count, gives None and the record-by-record reader reads the file
instead: its issues, flags and rows are the only ones. So this path never decides anything the other
would decide differently, and a file's result does not depend on which path read it.
"""

from __future__ import annotations

from schemas.live_files import (
    EVENT_FIELDS,
    LOG_FORMAT,
    MAX_EPOCH_MS,
    NULLABLE_RECORD_FIELDS,
    REQUIRED_RECORD_FIELDS,
)

_NONE = type(None)
# The value types a field's column may hold, by kind, and read as they are (an "id" integer becomes text).
_PLAIN_TYPES = {
    "text": {str, _NONE},
    "id": {str, int, _NONE},
    "int": {int, _NONE},
    "epoch_ms": {int, _NONE},
    "bool": {bool, _NONE},
}
_MISSING = object()


def clean_log_columns(text: bytes, decode) -> tuple[list[int], dict[str, list]] | None:
    """(line numbers, events column → values) of a log whose every line is a well-formed record of one
    session, read as `event_log._parse_line` reads them (`decode`: its JSON decoder's `decode`); else None."""
    try:
        lines = text.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    try:
        numbers, records = _records(lines, decode)
    except (ValueError, RecursionError):  # JSONDecodeError, a NaN / Infinity constant, nesting past the limit
        return None
    if not records or not all(type(record) is dict for record in records):
        return None
    columns = _read_fields(records)
    if columns is None:
        return None
    session_ids = columns["session_id"]
    if session_ids.count(session_ids[0]) != len(session_ids):  # two sessions: the other reader names the line
        return None
    return numbers, columns


def _records(lines: list[str], decode) -> tuple[list[int], list]:
    """Each non-empty line decoded (a line of spaces raises: the record-by-record reader judges it).

    Called as deep in the stack as `event_log._parse_line`, so a line nested near the recursion limit
    fails here whenever it would fail there."""
    if lines and not lines[-1]:
        lines = lines[:-1]  # the newline ending the last line
    if "" not in lines:
        return list(range(1, len(lines) + 1)), list(map(decode, lines))
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line]
    return [number for number, _ in numbered], [decode(line) for _, line in numbered]


# Read from every record at once; a nullable field's absence shows as _MISSING, a type no column accepts.
_FIELDS = ("format", *EVENT_FIELDS)
_DEFAULTS = tuple(_MISSING if field in NULLABLE_RECORD_FIELDS else None for field in _FIELDS)


def _read_fields(records: list[dict]) -> dict[str, list] | None:
    by_field = zip(*[tuple(map(record.get, _FIELDS, _DEFAULTS)) for record in records], strict=True)
    formats = list(next(by_field))
    if formats.count(LOG_FORMAT) != len(formats):
        return None
    columns: dict[str, list] = {}
    for field, values in zip(_FIELDS[1:], by_field, strict=True):
        column, kind = EVENT_FIELDS[field]
        if field in REQUIRED_RECORD_FIELDS and None in values:
            return None
        values = _read_column(list(values), kind)
        if values is None:
            return None
        columns[column] = values
    return columns


def _read_column(values: list, kind: str) -> list | None:
    """The column as `event_log`'s reader of this kind gives it, or None when one value needs that reader."""
    types = set(map(type, values))
    if not types <= _PLAIN_TYPES[kind]:
        return None
    if str in types and "" in values:
        return None  # an empty string is refused: the record-by-record reader names its line
    if kind == "id" and int in types:
        return [str(value) if type(value) is int else value for value in values]
    if kind == "epoch_ms":
        present = [value for value in values if value is not None]
        if present and not (0 <= min(present) and max(present) <= MAX_EPOCH_MS):
            return None
    return values
