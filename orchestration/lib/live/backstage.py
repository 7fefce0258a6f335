"""A LIVE Backstage "Creator data" export (XLSX or CSV) → one row per creator of that download.

Headers are matched through the alias table in `schemas/live_files.py` (TikTok renames them: `Total
Diamonds`, `... in selected period`, `Creator ID:`); a column we do not know is flagged and ignored, so a
new TikTok column never stops an agency's daily figures. The download moment comes from the file name
(UTC). A creator who left the network has `The creator has quit the network` as id: kept by username,
with `has_quit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestration.lib.live.documents import LiveDocument, clip
from orchestration.lib.live.frames import records_frame
from orchestration.lib.live.tables import read_cells
from orchestration.lib.live.values import (
    download_moment,
    read_count,
    read_days,
    read_duration_s,
    read_period,
    read_share,
    read_utc_moment,
)
from schemas.live_files import (
    BACKSTAGE_BY_HEADER,
    BACKSTAGE_COLUMNS,
    BACKSTAGE_FRAME_COLUMNS,
    BACKSTAGE_QUIT_CREATOR_ID,
    BACKSTAGE_REQUIRED,
    BackstageColumn,
    normalize_header,
)

_MAX_EXACT_FLOAT = 2**53  # an id stored as an XLSX number beyond this has lost digits


@dataclass
class BackstageExport:
    document: LiveDocument
    creators: pd.DataFrame  # document_id, source_row, then BACKSTAGE_FRAME_COLUMNS


def _text(cell) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip()
    return text or None


def _creator_id(cell) -> tuple[str | None, bool]:
    """(creator id, has quit)."""
    if isinstance(cell, float):
        if not cell.is_integer() or abs(cell) >= _MAX_EXACT_FLOAT:
            raise ValueError("a creator id stored as an XLSX number has lost digits: export the file as CSV")
        cell = int(cell)
    text = _text(cell)
    if text is not None and text.casefold() == BACKSTAGE_QUIT_CREATOR_ID.casefold():
        return None, True
    return text, False


_READERS = {
    "text": _text,
    "count": read_count,
    "days": read_days,
    "duration": read_duration_s,
    "share": read_share,
    "timestamp": read_utc_moment,
    "period": read_period,
    "creator_id": _creator_id,
}
_DTYPES = {
    "text": "string",
    "count": "Int64",
    "days": "Int64",
    "duration": "Int64",
    "share": "Float64",
    "timestamp": "datetime64[ns]",
}
_SHAPES = {
    "count": "a whole number such as 1,234,567",
    "days": "a number of days such as 21d",
    "duration": "a duration such as 119h 47m 31s or 88.46h",
    "share": "a share such as 90.13% or 0.94618",
    "timestamp": "a time such as 2023-08-05 00:11:00 (UTC+0)",
    "period": "a period such as 2026-07-01 ~ 2026-07-07",
}


def read_backstage_export(data: bytes, *, document_id: str, file_name: str) -> BackstageExport:
    doc = LiveDocument(document_id, file_name, kind="backstage", exported_at=download_moment(file_name))
    if doc.exported_at is None:
        doc.flag(
            "download_time_in_name",
            "the file name carries no download time (TikTok names it `Creator data 2026_06_02 14_59 UTC+0.xlsx`):"
            " the landing has to date it otherwise",
        )
    table = read_cells(doc, data)
    mapped = _map_header(doc, table[0]) if table else None
    if table is None or mapped is None:
        return BackstageExport(doc, empty_creators())
    header, rows = table
    records = []
    for number, cells in rows:
        if len(cells) < len(header) or any(cell not in (None, "") for cell in cells[len(header) :]):
            doc.fail(
                "row_width", f"row {number} has {len(cells)} fields, the header {len(header)}", row=number, value=None
            )
            continue
        records.append(_record(doc, number, cells, header, mapped))
    if doc.quarantined:
        return BackstageExport(doc, empty_creators())
    return BackstageExport(doc, _frame(document_id, records))


def _map_header(doc: LiveDocument, header: list[str]) -> list[tuple[int, BackstageColumn]] | None:
    found: dict[str, tuple[int, BackstageColumn]] = {}
    unknown = []
    for position, text in enumerate(header):
        column = BACKSTAGE_BY_HEADER.get(normalize_header(text))
        if column is None:
            unknown.append(text)
        elif column.column in found:
            earlier = header[found[column.column][0]]
            doc.fail("header", f"{earlier!r} and {text!r} are the same column ({column.column})", row=0, value=text)
        else:
            found[column.column] = (position, column)
    missing = [name for name in BACKSTAGE_REQUIRED if name not in found]
    if missing:
        spellings = " / ".join(f"{c.headers[0]!r}" for c in BACKSTAGE_COLUMNS if c.column in missing)
        doc.fail(
            "backstage_header",
            f"no {spellings} column: not a LIVE Backstage Creator data export (header {header})",
            row=0,
            value=clip(",".join(header)),
        )
        return None
    for text in unknown:
        doc.flag("unknown_column", f"column {text!r} is not one this pipeline knows: ignored", row=0, value=text)
    return None if doc.quarantined else sorted(found.values(), key=lambda item: item[0])


def _record(doc: LiveDocument, number: int, cells: list, header: list[str], mapped) -> dict:
    record: dict = dict.fromkeys(BACKSTAGE_FRAME_COLUMNS)
    record["source_row"], record["has_quit"] = number, False
    for position, column in mapped:
        cell = cells[position]
        try:
            value = _READERS[column.value](cell)
        except ValueError as error:
            shape = _SHAPES.get(column.value)
            doc.fail(
                "value_shape",
                f"row {number}, {header[position]!r}: {error}" + (f" (expected {shape})" if shape else ""),
                row=number,
                column=column.column,
                value=clip(cell),
            )
            continue
        if column.value == "period":
            record["period_start"], record["period_end"] = value or (None, None)
        elif column.value == "creator_id":
            record["creator_id"], record["has_quit"] = value
        else:
            record[column.column] = value
    return record


def _dtype(name: str) -> str:
    if name in ("period_start", "period_end"):
        return "datetime64[ns]"
    if name == "has_quit":
        return "boolean"
    if name == "creator_id":
        return "string"
    return _DTYPES[next(c.value for c in BACKSTAGE_COLUMNS if c.column == name)]


_FRAME_DTYPES = {"source_row": "int64", **{name: _dtype(name) for name in BACKSTAGE_FRAME_COLUMNS}}


def _frame(document_id: str, records: list[dict]) -> pd.DataFrame:
    frame = records_frame(records, _FRAME_DTYPES)
    if frame is not None:
        frame.insert(0, "document_id", pd.array([document_id] * len(frame), dtype="string"))
        return frame
    return _frame_the_long_way(document_id, records)


def _frame_the_long_way(document_id: str, records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=["source_row", *BACKSTAGE_FRAME_COLUMNS])
    frame.insert(0, "document_id", document_id)
    frame["document_id"] = frame["document_id"].astype("string")
    frame["source_row"] = frame["source_row"].astype("int64")
    for name in BACKSTAGE_FRAME_COLUMNS:
        dtype = _dtype(name)
        if dtype == "datetime64[ns]":
            frame[name] = pd.to_datetime(frame[name]).astype(dtype)
        else:  # from the records, not the guessed column: from_records reads integers with a gap as float64
            frame[name] = pd.array([record.get(name) for record in records], dtype=dtype)
    return frame


def empty_creators() -> pd.DataFrame:
    return _frame("", [])
