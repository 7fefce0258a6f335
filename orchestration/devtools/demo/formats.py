"""Byte writers for Studio's file formats: its CSV dialect, stored ZIPs, SheetJS-shaped XLSX, year-less dates.

Everything here is pure (same input -> same bytes); nothing knows about accounts or downloads.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from datetime import date

from babel import Locale
from babel.dates import format_skeleton

BOM = "\ufeff"
UNDEFINED = "undefined"
XLSX_INNER_TIME = (1980, 1, 1, 0, 0, 0)  # SheetJS writes no real timestamps inside the workbook


class YearlessDates:
    """Year-less "month + day" strings in a UI language, from CLDR (babel), cached per date."""

    def __init__(self, locale: str) -> None:
        self._locale = Locale.parse(locale)
        self._cache: dict[date, str] = {}

    def __call__(self, d: date) -> str:
        text = self._cache.get(d)
        if text is None:
            text = self._cache[d] = format_skeleton("MMMMd", d, locale=self._locale)
        return text


def yearless_date(d: date, locale: str) -> str:
    """`date(2026, 3, 8)`, "es" -> "8 de marzo"; the way Studio prints dates in that UI language."""
    return format_skeleton("MMMMd", d, locale=Locale.parse(locale))


def csv_bytes(header: Sequence[str], lines: Sequence[str]) -> bytes:
    """Studio's dialect: UTF-8 BOM, every field quoted, LF, no newline after the last row.

    `lines` are already rendered (`csv_line`), so a day's line is built once and shared by every export
    that shows it.
    """
    return (BOM + "\n".join((csv_line(header), *lines))).encode("utf-8")


def _dos_time(moment: Sequence[int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = moment[:6]
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def zip_bytes(members: Sequence[tuple[str, bytes]], moment: Sequence[int]) -> bytes:
    """A ZIP with its entries stored (no compression), each stamped with `moment` (local date_time).

    Written directly (a ZIP of stored entries is three fixed headers) because the benchmark writes
    100,000 of them. Header fields as in the real exports (version made by 2.0 / MS-DOS, needed 1.0,
    no flags, no extra fields); the DOS time keeps seconds in steps of two, so an entry can read one
    second earlier than the epoch in the Overview name.
    """
    dos_time, dos_date = _dos_time(moment)
    local_parts, central_parts = [], []
    offset = 0
    for name, data in members:
        encoded = name.encode("ascii")
        crc = zlib.crc32(data)
        size = len(data)
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 10, 0, 0, dos_time, dos_date, crc, size, size, len(encoded), 0)
        central_parts.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,  # made by: version 2.0, MS-DOS attributes (as in the real files)
                10,  # needed to extract: 1.0, stored
                0,
                0,
                dos_time,
                dos_date,
                crc,
                size,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
        local_parts += (local, encoded, data)
        offset += len(local) + len(encoded) + size
    central = b"".join(central_parts)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), offset, 0)
    return b"".join((*local_parts, central, end))


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def _cell(ref: str, value: str | int | float | None) -> str:
    if value is None:
        return ""  # an empty cell is simply not written
    if isinstance(value, str):
        return f'<c r="{ref}" t="str"><v>{_xml_escape(value)}</v></c>'
    return f'<c r="{ref}"><v>{value!r}</v></c>'  # a number cell (Backstage counts, fractions)


def xlsx_bytes(sheet_name: str, header: Sequence[str], rows: Sequence[Sequence[str | int | float | None]]) -> bytes:
    """A workbook shaped like Studio's (SheetJS): one sheet named after the file. Studio writes every cell as
    text; a number (int, float) becomes a number cell and None an absent cell."""
    all_rows = (header, *rows)
    width = len(header)
    ref = f"A1:{_column_letter(width - 1)}{len(all_rows)}"
    cells = []
    for r, row in enumerate(all_rows, start=1):
        row_cells = "".join(_cell(f"{_column_letter(c)}{r}", value) for c, value in enumerate(row))
        cells.append(f'<row r="{r}">{row_cells}</row>')
    sheet = (
        f'{_XML_DECL}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><dimension ref="{ref}"/>'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        f"<sheetData>{''.join(cells)}</sheetData>"
        f'<ignoredErrors><ignoredError numberStoredAsText="1" sqref="{ref}"/></ignoredErrors></worksheet>'
    )
    workbook = (
        f'{_XML_DECL}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><workbookPr codeName="ThisWorkbook"/>'
        f'<sheets><sheet name="{_xml_escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    styles = (
        f'{_XML_DECL}<styleSheet xmlns="{_NS_MAIN}"><fonts count="1"><font><sz val="12"/>'
        '<name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill '
        'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    )
    workbook_rels = (
        f'{_XML_DECL}<Relationships xmlns="{_NS_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_NS_REL}/styles" Target="styles.xml"/></Relationships>'
    )
    root_rels = (
        f'{_XML_DECL}<Relationships xmlns="{_NS_PKG_REL}">'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
        'metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_NS_REL}/extended-properties" Target="docProps/app.xml"/>'
        f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    app = (
        f"{_XML_DECL}<Properties xmlns="
        '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt='
        '"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>SheetJS'
        '</Application><HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>'
        "Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector>"
        '</HeadingPairs><TitlesOfParts><vt:vector size="1" baseType="lpstr"><vt:lpstr>'
        f"{_xml_escape(sheet_name)}</vt:lpstr></vt:vector></TitlesOfParts></Properties>"
    )
    core = (
        f"{_XML_DECL}<cp:coreProperties xmlns:cp="
        '"http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
    )
    ct = "application/vnd.openxmlformats-officedocument"
    content_types = (
        f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.spreadsheetml.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.spreadsheetml.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{ct}.extended-properties+xml"/></Types>'
    )
    parts = (
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", styles),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/workbook.xml", workbook),
        ("_rels/.rels", root_rels),
        ("docProps/app.xml", app),
        ("docProps/core.xml", core),
        ("[Content_Types].xml", content_types),
    )
    return zip_bytes([(name, text.encode("utf-8")) for name, text in parts], XLSX_INNER_TIME)


def csv_line(fields: Sequence[str]) -> str:
    """One CSV line with every field quoted. Fields must not contain '"' (see `csv_quote`)."""
    return '"' + '","'.join(fields) + '"'


def csv_quote(text: str) -> str:
    return text.replace('"', '""')
