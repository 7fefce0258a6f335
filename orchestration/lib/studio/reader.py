"""Received Studio files → documents (one export file each) → one typed DataFrame per file kind.

A ZIP holds one or more documents; a bare CSV/XLSX is one. Everything that stops a document from
being read (corrupt ZIP, empty file, wrong header, ragged row, unknown date text, missing handle)
becomes an `Issue` naming the file, row, column and rule, and the document is quarantined whole.
Work is batched per kind: rows are gathered as lists and turned into one DataFrame per kind, and
year-less dates are resolved per distinct value, not per row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from orchestration.lib.core.containers import RefusedArchive, read_zip_members
from orchestration.lib.studio.dates import (
    UnknownDateText,
    earliest_not_before,
    latest_not_after,
    nearest,
    parse_month_day,
)
from orchestration.lib.studio.provenance import (
    ExportAnchor,
    NameFacts,
    export_anchor,
    handle_from_video_links,
    strip_browser_repeat,
)
from schemas.studio_files import STUDIO_FILE_KINDS, StudioFileKind

MISSING = "undefined"  # TikTok's literal for a missing value
_BY_STEM = {k.entry_stem.lower(): k for k in STUDIO_FILE_KINDS.values()}
_BY_HEADER = {k.header: k for k in STUDIO_FILE_KINDS.values()}


@dataclass(frozen=True)
class Issue:
    document_id: str
    file: str  # what the user would recognise: original name, plus the ZIP entry
    rule: str
    message: str
    row: int | None = None  # 1-based data row (file line = row + 1)
    column: str | None = None
    value: str | None = None


@dataclass
class Document:
    document_id: str
    archive_sha256: str
    member_name: str
    original_name: str
    account_handle: str | None
    kind: str | None
    anchor: ExportAnchor
    rows: list[list[str]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        if self.member_name in ("", self.original_name):
            return self.original_name
        return f"{self.original_name} › {self.member_name}"

    def fail(self, rule: str, message: str, **where) -> None:
        self.issues.append(Issue(self.document_id, self.display_name, rule, message, **where))


def read_received_file(
    sha256: str, original_name: str, stored: Path, names: NameFacts, mtime: datetime
) -> list[Document]:
    """Split one archived object into documents and read their rows."""
    if stored.suffix.lower() == ".zip":
        try:
            members = read_zip_members(stored)
        except RefusedArchive as refused:
            anchor = export_anchor(names, None, mtime)
            doc = Document(sha256 + ":", sha256, "", original_name, names.handle, None, anchor)
            doc.fail("safe_zip", f"ZIP refused: {refused}")
            return [doc]
        entry_time = max((m.modified for m in members), default=None)
        anchor = export_anchor(names, entry_time, mtime)
        sources = [(m.name, m.data) for m in members]
    else:
        anchor = export_anchor(names, None, mtime)
        sources = [(original_name, stored.read_bytes())]

    documents = []
    for member_name, data in sources:
        doc = Document(
            f"{sha256}:{member_name if member_name != original_name else ''}",
            sha256,
            member_name,
            original_name,
            names.handle,
            None,
            anchor,
        )
        _read_rows(doc, member_name, data)
        documents.append(doc)
    if not documents:
        doc = Document(sha256 + ":", sha256, "", original_name, names.handle, None, anchor)
        doc.fail("not_empty", "the ZIP holds no files")
        documents.append(doc)
    return documents


def _read_rows(doc: Document, member_name: str, data: bytes) -> None:
    path = PurePosixPath(member_name)
    suffix = path.suffix.lower()
    if not data.strip():
        doc.fail("not_empty", "the file is empty (0 bytes or only whitespace): download it again")
        return
    if suffix == ".xlsx":
        table = _xlsx_rows(doc, data)
    elif suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            doc.fail("utf8", f"not UTF-8 text ({error.reason} at byte {error.start})")
            return
        table = list(csv.reader(io.StringIO(text, newline="")))
    else:
        doc.fail("file_type", f"{member_name!r} is not a Studio export (.csv or .xlsx expected)")
        return
    if table is None:
        return
    if not table:
        doc.fail("not_empty", "the file has no header row")
        return
    header, rows = tuple(cell.strip() for cell in table[0]), table[1:]
    kind = _BY_STEM.get(strip_browser_repeat(path.stem).lower())
    if kind is None:
        kind = _BY_HEADER.get(header)
    if kind is None:
        doc.fail("known_file", f"not a Studio export this pipeline knows (header {list(header)})")
        return
    doc.kind = kind.kind
    if header != kind.header:
        doc.fail(
            "header",
            f"header {list(header)} does not match {kind.entry_stem} ({list(kind.header)})",
            row=0,
            value=",".join(header),
        )
        return
    width = len(kind.header)
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            doc.fail("row_width", f"row has {len(row)} fields, expected {width}", row=number, value=",".join(row))
            return
    doc.rows = rows
    if doc.account_handle is None and kind.kind == "content":
        doc.account_handle = handle_from_video_links([r[2] for r in rows])
    if doc.account_handle is None:
        doc.fail(
            "account_handle",
            "no account handle: keep TikTok's ZIP name (e.g. Content_<handle>.zip) or put the file in inbox/<handle>/",
        )


def _xlsx_rows(doc: Document, data: bytes) -> list[list[str]] | None:
    """Studio XLSX: one sheet, every cell stored as text; read cells back as the CSV would show them."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken workbook
        doc.fail("xlsx", f"not a readable XLSX workbook ({type(error).__name__}: {error})")
        return None
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True) if row is not None]
    finally:
        book.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- rows → one DataFrame per kind ------------------------------------------------------------


def frames_by_kind(documents: list[Document]) -> dict[str, pd.DataFrame]:
    """Stack readable documents into one frame per kind.

    Frames carry `document_id`, `source_row` and the kind's columns, with "undefined" as NA and
    year-less dates resolved; numbers are left as text for the contracts to coerce and judge.
    Dates that cannot be read add issues to their document.
    """
    frames: dict[str, pd.DataFrame] = {}
    for kind in STUDIO_FILE_KINDS.values():
        docs = [d for d in documents if d.kind == kind.kind and not d.issues]
        if not docs:
            continue
        rows = [row for d in docs for row in d.rows]
        frame = pd.DataFrame(rows, columns=list(kind.columns), dtype="string") if rows else _empty(kind)
        frame.insert(0, "document_id", np.repeat([d.document_id for d in docs], [len(d.rows) for d in docs]))
        frame.insert(1, "source_row", np.concatenate([np.arange(1, len(d.rows) + 1) for d in docs]))
        frame = frame.replace({MISSING: pd.NA})
        if kind.kind == "content":  # the 19-digit id exists only inside the link: keep it as text
            frame.insert(2, "video_id", frame["video_link"].str.extract(r"/video/(\d+)", expand=False))
        frames[kind.kind] = _resolve_dates(kind, frame, {d.document_id: d for d in docs})
    return frames


def _empty(kind: StudioFileKind) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in kind.columns})


def _resolve_dates(kind: StudioFileKind, frame: pd.DataFrame, docs: dict[str, Document]) -> pd.DataFrame:
    if kind.dated:
        rules = {d: _row_date_rule(doc.anchor) for d, doc in docs.items()}
        frame["metric_date"] = _dates(frame, "metric_date", rules, docs)
    elif kind.kind == "content":
        # `Time` is the download day itself: take the candidate year closest to the anchor.
        rules = {d: (nearest, doc.anchor.export_date) for d, doc in docs.items()}
        frame["metric_date"] = _dates(frame, "metric_date", rules, docs)
        snapshots = frame.dropna(subset=["metric_date"]).groupby("document_id")["metric_date"].first()
        _refine_export_date_from_content(snapshots, docs)
        # A video was posted on or before the day it was seen.
        rules = {d: (latest_not_after, snapshot.date()) for d, snapshot in snapshots.items()}
        frame["post_date"] = _dates(frame, "post_date", rules, docs)
    return frame


def _row_date_rule(anchor: ExportAnchor):
    if anchor.window_start is not None:  # Overview ZIP name: rows run forward from the window's first day
        return earliest_not_before, anchor.window_start
    return latest_not_after, anchor.export_date  # rows end on or before the export


def _dates(frame: pd.DataFrame, column: str, rules: dict, docs: dict[str, Document]) -> pd.Series:
    """Resolve a year-less date column once per distinct (rule, text), not once per row."""
    keys = list(zip(frame["document_id"].map(rules), frame[column].fillna(""), strict=True))
    resolved = {key: _resolve_one(key[1], key[0]) for key in set(keys)}
    values = [resolved[key] for key in keys]
    for i, value in enumerate(values):
        if value is None and keys[i][1]:
            docs[frame["document_id"].iat[i]].fail(
                "studio_date",
                "not a date in any supported UI language",
                row=int(frame["source_row"].iat[i]),
                column=column,
                value=keys[i][1],
            )
    return pd.to_datetime(pd.Series(values, index=frame.index, dtype="object"))


def _resolve_one(text: str, rule) -> date | None:
    if not text or rule is None or (isinstance(rule, float) and pd.isna(rule)):
        return None
    function, anchor_date = rule
    try:
        return function(*parse_month_day(text), anchor_date)
    except UnknownDateText:
        return None


def _refine_export_date_from_content(snapshots: pd.Series, docs: dict[str, Document]) -> None:
    """Content `Time` outranks a dated folder or an mtime as the export date (it is the download day)."""
    for document_id, snapshot in snapshots.items():
        doc = docs[document_id]
        if doc.anchor.source in ("inbox_folder_date", "file_mtime"):
            doc.anchor = replace(doc.anchor, export_date=snapshot.date(), source="content_time")
