"""A LIVE Center daily file (viewers, engagement, revenue or activity) → its kind and one row per day.

TikTok does not name the kind in the file, so it is told by the set of headers after the first column
(the date), in any UI language listed in `schemas/live_files.py`; the order of those columns does not
matter. A header set we do not know is a structural error naming the headers found. The result is wide:
one raw table per kind (`live_center_<kind>`), one row per day, a column per figure, as the file is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestration.lib.live.documents import LiveDocument, clip
from orchestration.lib.live.tables import read_cells
from orchestration.lib.live.values import read_count, read_day, read_decimal
from schemas.live_files import LIVE_CENTER_BY_HEADER_SET, LIVE_CENTER_KINDS, LiveCenterKind, normalize_header


@dataclass
class LiveCenterFile:
    document: LiveDocument
    kind: str | None  # viewers, engagement, revenue, activity: the raw table is live_center_<kind>
    language: str | None  # the UI language its headers are in
    days: pd.DataFrame  # document_id, source_row, metric_date, then the kind's columns

    @property
    def table(self) -> str | None:
        return None if self.kind is None else f"live_center_{self.kind}"


def read_live_center_file(data: bytes, *, document_id: str, file_name: str) -> LiveCenterFile:
    doc = LiveDocument(document_id, file_name)
    table = read_cells(doc, data)
    if table is None:
        return LiveCenterFile(doc, None, None, pd.DataFrame())
    header, rows = table
    detected = _detect(doc, header)
    if detected is None:
        return LiveCenterFile(doc, None, None, pd.DataFrame())
    kind, language, positions = detected
    doc.kind = f"live_center_{kind.kind}"
    records = []
    for number, cells in rows:
        if len(cells) < len(header) or any(cell not in (None, "") for cell in cells[len(header) :]):
            doc.fail("row_width", f"row {number} has {len(cells)} fields, the header {len(header)}", row=number)
            continue
        records.append(_record(doc, kind, number, cells, header, positions))
    if doc.quarantined:
        return LiveCenterFile(doc, kind.kind, language, empty_days(kind))
    return LiveCenterFile(doc, kind.kind, language, _frame(document_id, kind, records))


def _detect(doc: LiveDocument, header: list[str]) -> tuple[LiveCenterKind, str, dict[str, int]] | None:
    figures = [normalize_header(h) for h in header[1:]]
    match = LIVE_CENTER_BY_HEADER_SET.get(frozenset(figures)) if len(set(figures)) == len(figures) else None
    if match is None:
        known = "; ".join(
            f"{k.kind} ({language}): {', '.join(headers)}"
            for k in LIVE_CENTER_KINDS.values()
            for language, headers in k.headers.items()
        )
        doc.fail(
            "live_center_header",
            f"not a LIVE Center daily file this pipeline knows: the headers after the date are {header[1:]}; "
            f"known header sets are {known}",
            row=0,
            value=clip(",".join(header)),
        )
        return None
    kind, language = match
    by_header = {normalize_header(h): position for position, h in enumerate(header) if position}
    positions = {
        column: by_header[normalize_header(h)] for column, h in zip(kind.columns, kind.headers[language], strict=True)
    }
    return kind, language, positions


def _record(
    doc: LiveDocument, kind: LiveCenterKind, number: int, cells: list, header: list[str], positions: dict[str, int]
) -> dict:
    record: dict = {"source_row": number}
    reads = [("metric_date", 0, read_day, "a date as yyyy-MM-dd or yyyy/MM/dd")]
    reads += [
        (c, positions[c], read_decimal if c in kind.decimals else read_count, "a number such as 1,234")
        for c in kind.columns
    ]
    for column, position, reader, shape in reads:
        try:
            record[column] = reader(cells[position])
        except ValueError as error:
            doc.fail(
                "value_shape",
                f"row {number}, {header[position]!r}: {error} (expected {shape})",
                row=number,
                column=column,
                value=clip(cells[position]),
            )
    if record.get("metric_date", 0) is None:
        doc.fail("value_shape", f"row {number} has no date in its first column", row=number, column="metric_date")
    return record


def _frame(document_id: str, kind: LiveCenterKind, records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=["source_row", "metric_date", *kind.columns])
    frame.insert(0, "document_id", document_id)
    frame["document_id"] = frame["document_id"].astype("string")
    frame["source_row"] = frame["source_row"].astype("int64")
    frame["metric_date"] = pd.to_datetime(frame["metric_date"]).astype("datetime64[ns]")
    for column in kind.columns:
        dtype = "Float64" if column in kind.decimals else "Int64"
        frame[column] = pd.array(frame[column].tolist(), dtype=dtype)
    return frame


def empty_days(kind: LiveCenterKind) -> pd.DataFrame:
    return _frame("", kind, [])
