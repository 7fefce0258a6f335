"""CSV and XLSX files as rows of cells, for the two spreadsheet LIVE inputs.

CSV cells are text; XLSX cells are what openpyxl gives (text, int, float, datetime), so the value readers
see a number as a number rather than as its display. An XLSX is a ZIP: its directory passes the ZIP
limits (`core.containers.check_xlsx_container`) before any XML is parsed.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath

from orchestration.lib.core.containers import RefusedArchive, check_xlsx_container
from orchestration.lib.live.documents import LiveDocument


def read_cells(doc: LiveDocument, data: bytes) -> tuple[list[str], list[tuple[int, list]]] | None:
    """The header and the non-blank data rows, each with its 1-based data row number (file row - 1, as in
    the Studio files: a blank row keeps its number, so every issue names the row a spreadsheet shows).
    None after recording why the file cannot be read."""
    suffix = PurePosixPath(doc.file_name).suffix.lower()
    if not data.strip():
        doc.fail("not_empty", "the file is empty (0 bytes or only whitespace): download it again")
        return None
    if suffix == ".xlsx":
        rows = _xlsx_rows(doc, data)
    elif suffix == ".csv":
        rows = _csv_rows(doc, data)
    else:
        doc.fail("file_type", f"{doc.file_name!r} is not a .csv or .xlsx file")
        return None
    if rows is None:
        return None
    numbered = [(number, row) for number, row in enumerate(rows) if any(not _blank(cell) for cell in row)]
    if not numbered:
        doc.fail("not_empty", "the file has no header row")
        return None
    (header_at, header), data_rows = numbered[0], numbered[1:]
    return trim_header(header), [(number - header_at, row) for number, row in data_rows]


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _csv_rows(doc: LiveDocument, data: bytes) -> list[list] | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        doc.fail("utf8", f"not UTF-8 text ({error.reason} at byte {error.start}): export the file again as CSV")
        return None
    return list(csv.reader(io.StringIO(text, newline="")))


def _xlsx_rows(doc: LiveDocument, data: bytes) -> list[list] | None:
    import openpyxl

    try:
        check_xlsx_container(data)
    except RefusedArchive as refused:
        doc.fail("safe_zip", f"XLSX refused: {refused}")
        return None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken workbook
        doc.fail("xlsx", f"not a readable XLSX workbook ({type(error).__name__}: {error})")
        return None
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def trim_header(cells: list) -> list[str]:
    """Header cells as text; empty cells past the last header (XLSX used-range padding) dropped."""
    header = ["" if cell is None else str(cell).strip() for cell in cells]
    while header and not header[-1]:
        header.pop()
    return header
