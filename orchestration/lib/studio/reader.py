"""Received Studio files → documents (one export file each), their rows for `frames` to stack per file kind.

A ZIP holds one or more documents; a bare CSV/XLSX is one. Everything that stops a document from
being read (corrupt ZIP, empty file, wrong header, ragged row, unknown date text, missing handle)
becomes an `Issue` naming the file, row, column and rule, and the document is quarantined whole.
No Python runs per row on the way: a CSV as TikTok writes it keeps its body as bytes, proven well-formed
by one regular expression, for Arrow to parse with its kind's other bodies (`csv_bodies`); any other CSV
is read by the C CSV reader (caps and widths checked on whole lists); XLSX cells come from openpyxl.

Reading is bounded (entry size, rows, cells: see the limits below and `core.containers`) and isolated:
any other failure while reading one document, of whatever type, quarantines that document with the
rule `unreadable` instead of stopping the batch.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate, islice
from pathlib import Path

from orchestration.lib.core.archive import document_id_for
from orchestration.lib.core.containers import MAX_ENTRY_BYTES, RefusedArchive, check_xlsx_container, read_zip_members
from orchestration.lib.core.inbox import is_litter_file, is_litter_folder
from orchestration.lib.core.receipts import is_dated_folder, stem_and_suffix
from orchestration.lib.studio.advice import not_an_export
from orchestration.lib.studio.csv_bodies import well_formed_rows
from orchestration.lib.studio.provenance import (
    ExportAnchor,
    NameFacts,
    export_anchor,
    handle_from_video_links,
    strip_browser_repeat,
)
from schemas.live_files import is_backstage_header, live_center_kind_of_header
from schemas.studio_files import STUDIO_FILE_KINDS, StudioFileKind

MISSING = "undefined"  # TikTok's literal for a missing value
_BY_STEM = {k.entry_stem.lower(): k for k in STUDIO_FILE_KINDS.values()}
_BY_HEADER = {k.header: k for k in STUDIO_FILE_KINDS.values()}
_QUOTED_HEADERS = {",".join(f'"{c}"' for c in k.header).encode(): k.header for k in STUDIO_FILE_KINDS.values()}

# Real Studio files hold at most a few thousand rows (Overview: 365 days; FollowerActivity: 24 hours ×
# 60 days = 1,440; Content: a few hundred videos). The caps leave two orders of magnitude and are
# enforced while reading, so a hostile file stops being read at the cap instead of being loaded whole.
MAX_ROWS = 200_000
MAX_CELLS = 2_000_000  # the widest kind (Content, 8 columns) at MAX_ROWS fits
# A field cannot be larger than the file holding it (a 1 MB video title is data, not an error).
csv.field_size_limit(MAX_ENTRY_BYTES)
_MESSAGE_CHARS = 300  # longest message or value quoted in an issue (an exception text, a cell)


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
    rows: list[list[str]] = field(default_factory=list)  # until released: the frames hold them then
    issues: list[Issue] = field(default_factory=list)
    released_rows: int | None = None
    body: bytes | None = None  # instead of rows: a well-formed CSV body (csv_bodies), `body_rows` rows
    body_rows: int = 0
    inbox_path: str = ""  # the receipt's place in the inbox, as the user knows it (quarantine reports)
    handle_from: str = ""  # where account_handle came from: zip_name | inbox_folder | video_links (NameFacts)
    inner_zip_sha256: str | None = None  # a ZIP inside the ZIP: its bytes, whose landing ends this quarantine

    @property
    def row_count(self) -> int:
        if self.released_rows is not None:
            return self.released_rows
        return self.body_rows if self.body is not None else len(self.rows)

    def release_rows(self) -> None:
        """Once the frames hold the rows: keep their number only (the batch's largest part of memory)."""
        self.released_rows, self.rows, self.body = self.row_count, [], None

    @property
    def display_name(self) -> str:
        if self.member_name in ("", self.original_name):
            return self.original_name
        return f"{self.original_name} › {self.member_name}"

    def fail(self, rule: str, message: str, **where) -> None:
        if where.get("value") is not None:  # a 1 MB cell or a 16,384-column header stays readable
            where["value"] = _shortened(where["value"])
        self.issues.append(Issue(self.document_id, self.display_name, rule, _shortened(message), **where))


def _shortened(text: str) -> str:
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "…"


def read_received_file(
    sha256: str, original_name: str, stored: Path, names: NameFacts, mtime: datetime, *, receipt_path: str
) -> list[Document]:
    """Split one archived object into documents and read their rows."""
    if stored.suffix.lower() == ".zip":
        try:
            members = [member for member in read_zip_members(stored) if not is_litter_member(member.name)]
        except RefusedArchive as refused:
            anchor = export_anchor(names, None, mtime)
            doc = Document(
                document_id_for(sha256, receipt_path, ""), sha256, "", original_name, names.handle, None, anchor
            )
            doc.fail("safe_zip", f"ZIP refused: {refused}")
            return [doc]
        entry_time = max((m.modified for m in members if m.modified is not None), default=None)
        anchor = export_anchor(names, entry_time, mtime)
        sources = [(m.name, m.data) for m in members]
    else:
        anchor = export_anchor(names, None, mtime)
        sources = [(original_name, _read_at_most(stored, MAX_ENTRY_BYTES + 1))]

    documents = []
    for member_name, data in sources:
        doc = Document(
            document_id_for(sha256, receipt_path, member_name if member_name != original_name else ""),
            sha256,
            member_name,
            original_name,
            names.handle,
            None,
            anchor,
            inbox_path=receipt_path,  # for a reason naming its folder
        )
        _read_rows(doc, member_name, data)
        documents.append(doc)
    if not documents:
        doc = Document(document_id_for(sha256, receipt_path, ""), sha256, "", original_name, names.handle, None, anchor)
        doc.fail("not_empty", "the ZIP holds no files")
        documents.append(doc)
    return documents


def is_litter_member(name: str) -> bool:
    """A ZIP entry the inbox walk would skip as litter: what macOS's Compress adds (`__MACOSX/`, `._*`), `.DS_Store`,
    `Thumbs.db` and the like. The archive's safety checks still covered it; it is no document."""
    *folders, file_name = name.replace("\\", "/").split("/")
    return is_litter_file(file_name) or any(is_litter_folder(folder) for folder in folders)


def unreadable_file(
    sha256: str, original_name: str, names: NameFacts, mtime: datetime, error: BaseException, *, receipt_path: str
) -> Document:
    """The whole received file as one quarantined document, when reading it failed unexpectedly."""
    anchor = export_anchor(names, None, mtime)
    doc = Document(document_id_for(sha256, receipt_path, ""), sha256, "", original_name, names.handle, None, anchor)
    fail_unreadable(doc, error)
    return doc


def fail_unreadable(doc: Document, error: BaseException) -> None:
    doc.fail("unreadable", f"the file could not be read ({describe_exception(error)})")


def describe_exception(error: BaseException) -> str:
    """`Type: text`, the text cut short: what a quarantine reason quotes of an unexpected failure."""
    return f"{type(error).__name__}: {_shortened(str(error))}"


def _read_at_most(stored: Path, limit: int) -> bytes:
    with stored.open("rb") as stream:
        return stream.read(limit)


def _read_rows(doc: Document, member_name: str, data: bytes) -> None:
    """Read one document's rows; a failure nobody foresaw quarantines this document only."""
    try:
        _parse_rows(doc, member_name, data)
    except Exception as error:  # isolation: one bad file never stops the drop
        doc.rows = []
        fail_unreadable(doc, error)


def _parse_rows(doc: Document, member_name: str, data: bytes) -> None:
    stem, suffix = stem_and_suffix(member_name)
    suffix = suffix.lower()
    if len(data) > MAX_ENTRY_BYTES:
        doc.fail("file_size", f"larger than {MAX_ENTRY_BYTES} bytes: not a Studio export")
        return
    if not data.strip():
        doc.fail("not_empty", "the file is empty (0 bytes or only whitespace): download it again")
        return
    if suffix == ".xlsx":
        table = _xlsx_rows(doc, data)
    elif suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            offset, line = _in_file(data, error.start)
            doc.fail("utf8", _not_utf8_reason(data, error, offset, line), row=line - 1)
            return
        if _keep_well_formed_body(doc, stem, data):
            return
        table = _bounded_csv_rows(doc, text)
    else:  # a ZIP inside the ZIP is told how to land it; its quarantine ends once its bytes land bare (run_summary)
        doc.inner_zip_sha256 = hashlib.sha256(data).hexdigest() if suffix == ".zip" else None
        doc.fail("file_type", not_an_export(member_name, suffix, doc.original_name, doc.inbox_path))
        return
    if table is None:
        return
    while table and not any(cell.strip() for cell in table[-1]):
        table.pop()  # trailing blank lines are not rows
    if not table:
        doc.fail("not_empty", "the file has no header row")
        return
    header, rows = tuple(cell.strip() for cell in table[0]), table[1:]
    kind = _kind_for(stem, header)
    if kind is None:
        doc.fail(
            "known_file",
            _resaved_reason(",".join(header)) or f"not a Studio export this pipeline knows (header {list(header)})",
        )
        return
    doc.kind = kind.kind
    if header != kind.header:
        doc.fail(
            "header",
            _resaved_reason(",".join(header))
            or _live_file_named_as_studio(header, doc.original_name)
            or f"header {list(header)} does not match {kind.entry_stem} ({list(kind.header)})",
            row=0,
            value=",".join(header),
        )
        return
    width = len(kind.header)
    if set(map(len, rows)) - {width}:  # the row-by-row search only for a file that has a ragged row
        number, row = next((n, row) for n, row in enumerate(rows, start=1) if len(row) != width)
        doc.fail("row_width", f"row has {len(row)} fields, expected {width}", row=number, value=",".join(row))
        return
    doc.rows = rows
    if doc.account_handle is None and kind.kind == "content":
        doc.account_handle = handle_from_video_links([r[2] for r in rows])
    if doc.account_handle is None:
        doc.fail("account_handle", _no_handle_reason(doc.inbox_path))


def _no_handle_reason(inbox_path: str) -> str:
    """What to do about a file whose account cannot be told, naming the folder that is no handle, if any."""
    folder = inbox_path.split("/")[0] if "/" in inbox_path else None
    if folder is not None and is_dated_folder(folder):
        where = f"the dated folder '{folder}' belongs inside the account's folder (inbox/<handle>/{folder}/)"
    elif folder is not None:
        where = (
            f"the folder '{folder}' is not a TikTok handle (letters, digits, '.' and '_', up to 64): "
            "rename it to the account's @handle"
        )
    else:
        where = "put the file in inbox/<handle>/"
    return f"no account handle: {where}, or keep TikTok's ZIP name (e.g. Content_<handle>.zip)"


def _keep_well_formed_body(doc: Document, stem: str, data: bytes) -> bool:
    """Keep the body of a CSV that reading row by row would accept whole (its kind's exact header, a handle,
    within the caps, every line a row of the header's width: `csv_bodies`); False to read it row by row."""
    head, _, body = data.removeprefix(codecs.BOM_UTF8).partition(b"\n")
    header = _QUOTED_HEADERS.get(head.removesuffix(b"\r"))  # as TikTok writes it: no csv module needed
    if header is None:
        try:
            lines = list(_csv_reader(head.decode("utf-8")))  # one line: a lone CR inside would make it two rows
        except csv.Error:
            return False
        if len(lines) != 1:
            return False
        header = tuple(cell.strip() for cell in lines[0])
    kind = _kind_for(stem, header)
    if kind is None or header != kind.header or doc.account_handle is None:
        return False
    rows = well_formed_rows(body, len(kind.header))
    if rows is None or rows > MAX_ROWS or (rows + 1) * len(kind.header) > MAX_CELLS:  # the header's cells count
        return False
    doc.kind, doc.body, doc.body_rows = kind.kind, body, rows
    return True


_RESAVE = "save it again as CSV UTF-8 (comma-separated), or download it again from TikTok Studio"


def _in_file(data: bytes, decoded_at: int) -> tuple[int, int]:
    """The byte offset in the file (the BOM `utf-8-sig` skipped counted) and its line, lines ending in LF, CRLF or a
    lone CR (a spreadsheet's 'CSV (Macintosh)')."""
    offset = decoded_at + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
    before = data[:offset]
    return offset, len(before.splitlines()) + (not before or before.endswith((b"\n", b"\r")))


def _not_utf8_reason(data: bytes, error: UnicodeDecodeError, offset: int, line: int) -> str:
    """Why a CSV is not UTF-8, and what to do: TikTok writes UTF-8; a spreadsheet's re-save may not."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return f"UTF-16 text (a spreadsheet's 'Unicode Text'), not the UTF-8 TikTok writes: {_RESAVE}"
    return (
        f"not UTF-8 text ({error.reason} at byte {offset}, line {line}): another encoding, as a spreadsheet may "
        f"save it: {_RESAVE}"
    )


def _resaved_reason(first_line: str) -> str | None:
    """The reason for a Studio header whose columns are separated by semicolons (a spreadsheet's regional setting)
    or tabs (its 'Text (Tab delimited)'), its cells quoted or not (quoted, the comma-separated reading fails on the
    first line); or for UTF-16 text without its byte-order mark, which reads as UTF-8 with a NUL between letters."""
    if "\x00" in first_line:
        return f"UTF-16 text without a byte-order mark (NUL bytes between letters), not UTF-8: {_RESAVE}"
    for delimiter, named in ((";", "semicolons"), ("\t", "tabs")):
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(cells) > 1 and tuple(cell.strip() for cell in cells) in _BY_HEADER:
            return f"a Studio header with its columns separated by {named}, not commas: {_RESAVE}"
    return None


def _live_file_named_as_studio(header: tuple[str, ...], name: str) -> str | None:
    """The reason for a LIVE Center or Backstage file saved under a Studio file's name (`viewers.csv`): the routing
    takes a file by such a name for Studio without opening it (an agency's 100,000 bare Studio files would each be
    read once more), so say what it is and how to land it (review)."""
    while header and not header[-1]:  # a spreadsheet's trailing empty columns
        header = header[:-1]
    if (center := live_center_kind_of_header(header)) is not None:
        what, example = "LIVE Center", f"LIVE Center {center.kind}.csv"
    elif is_backstage_header(header):
        what, example = "LIVE Backstage", "Creator data.csv"
    else:
        return None
    return (
        f"a {what} file saved under a TikTok Studio file's name ({name}): give it another name (e.g. '{example}') "
        "and drop it again; it is then read as LIVE data"
    )


def _kind_for(stem: str, header: tuple[str, ...]) -> StudioFileKind | None:
    """The file kind a member's name says (a browser's " (1)" dropped), else the one its header says."""
    return _BY_STEM.get(strip_browser_repeat(stem).lower()) or _BY_HEADER.get(header)


def _csv_reader(text: str) -> Iterator[list[str]]:
    # strict: a field cut before its closing quote is an error, not a shorter value
    return csv.reader(io.StringIO(text, newline=""), strict=True)


_CHUNK_ROWS = 1024


def _bounded_csv_rows(doc: Document, text: str) -> list[list[str]] | None:
    """`_bounded_rows` of a CSV text, with the caps checked per chunk of rows instead of per row (the same
    issue, at the same row; reading goes at most one chunk past a cap). A malformed CSV is read again
    row by row, so that its issue names the row where it breaks."""
    reader, table, cells = _csv_reader(text), [], 0
    try:
        while chunk := list(islice(reader, _CHUNK_ROWS)):
            totals = list(accumulate(map(len, chunk), initial=cells))[1:]  # cells up to each row, included
            first_over = min(bisect_right(totals, MAX_CELLS), MAX_ROWS + 1 - len(table))
            if first_over < len(chunk):
                position = len(table) + first_over
                what = f"{MAX_ROWS:,} rows" if position > MAX_ROWS else f"{MAX_CELLS:,} cells"
                doc.fail("size_limit", f"more than {what}: far larger than any Studio export", row=position)
                return None
            table.extend(chunk)
            cells = totals[-1]
    except csv.Error:
        first_line = text.partition("\n")[0].partition("\r")[0]
        if reason := _resaved_reason(first_line):
            doc.fail("header", reason, row=0, value=first_line)
            return None
        return _bounded_rows(doc, _csv_reader(text))
    return table


def _bounded_rows(doc: Document, rows: Iterable[list[str]]) -> list[list[str]] | None:
    """Header and rows, read until MAX_ROWS data rows or MAX_CELLS cells, never further."""
    table: list[list[str]] = []
    cells = 0
    try:
        for row in rows:
            cells += len(row)
            if len(table) > MAX_ROWS or cells > MAX_CELLS:
                what = f"{MAX_ROWS:,} rows" if len(table) > MAX_ROWS else f"{MAX_CELLS:,} cells"
                doc.fail("size_limit", f"more than {what}: far larger than any Studio export", row=len(table))
                return None
            table.append(row)
    except csv.Error as error:  # row 0 is the header, as for the header rule
        doc.fail("csv_structure", f"malformed CSV ({error})", row=len(table))
        return None
    return table


def _xlsx_rows(doc: Document, data: bytes) -> list[list[str]] | None:
    """Studio XLSX: one sheet, every cell stored as text; read cells back as the CSV would show them."""
    import openpyxl

    try:
        check_xlsx_container(data)
    except RefusedArchive as refused:
        doc.fail("safe_xlsx", f"XLSX refused: {refused}")
        return None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken workbook
        doc.fail("xlsx", f"not a readable XLSX workbook ({describe_exception(error)})")
        return None
    try:
        sheet = book.worksheets[0]
        # The declared size (<dimension>) is the file's word: it would cut rows past it and pad every
        # row to it. Read the cells the sheet holds instead, bounded by our caps.
        sheet.reset_dimensions()
        table = _bounded_rows(doc, sheet.iter_rows(values_only=True))
    except Exception as error:  # a sheet broken past its first rows
        doc.fail("xlsx", f"not a readable XLSX workbook ({describe_exception(error)})")
        return None
    finally:
        book.close()
    if table is None:
        return None
    # A missing cell and an empty one are the same in XLSX: rows are as wide as the header.
    texts = [_without_trailing_empty([_cell_text(v) for v in row]) for row in table]
    width = len(texts[0]) if texts else 0
    return [row + [""] * (width - len(row)) for row in texts]


def _without_trailing_empty(cells: list[str]) -> list[str]:
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
