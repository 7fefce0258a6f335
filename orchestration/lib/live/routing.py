"""Which received files are LIVE inputs, and which log a session sidecar belongs to.

Told from the inbox path first, from the header only when the name cannot say (never the other way):

| received file | kind |
|---|---|
| `<name>.session.json` | `live_session`: the sidecar of `<name>.jsonl` / `<name>.jsonl.gz`, never a document |
| `<name>.jsonl`, `<name>.jsonl.gz`, anything else in a `live/` folder but a CSV, XLSX or ZIP | `live_log` |
| `Creator data …` / `Creator_data_…` (any extension) | `live_backstage` |
| a bare CSV / XLSX whose name is no Studio file's, with a LIVE Center header set | `live_center` |
| the same with Backstage's required headers (data period, creator id, username) | `live_backstage` |

Everything else is the Studio reader's. The header peek is bounded and never raises: a file it cannot
read is left to the Studio reader, whose quarantine says why.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb

from orchestration.lib.core.containers import MAX_ENTRY_BYTES, RefusedArchive, check_xlsx_container
from orchestration.lib.core.inbox import shown_name
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.receipts import (
    Received,
    inbox_folder_handle,
    received_from_manifest,
    stem_and_suffix,
    strip_browser_repeat,
)
from orchestration.lib.live.tables import trim_header
from schemas.live_files import is_backstage_header, live_center_kind_of_header
from schemas.studio_files import STUDIO_FILE_KINDS

LOG, SIDECAR, BACKSTAGE, LIVE_CENTER = "live_log", "live_session", "live_backstage", "live_center"
SIDECAR_SUFFIX = ".session.json"
LOG_SUFFIXES = (".jsonl", ".jsonl.gz")
BACKSTAGE_AT_INBOX_ROOT = "backstage"  # the account of an agency-wide Backstage file dropped outside a folder

_BACKSTAGE_NAME = re.compile(r"^creator[ _]data(?![a-z])", re.IGNORECASE)  # "Creator_data_2026_..." too
_STUDIO_STEMS = frozenset(k.entry_stem.lower() for k in STUDIO_FILE_KINDS.values())
_SHEETS = (".csv", ".xlsx")
_PEEK_BYTES = 64 * 1024  # a CSV header line is far shorter


def classify(item: Received) -> tuple[str, str | None] | None:
    """(kind, account handle for the manifest) of a LIVE file, None for anything else.

    The handle of a log is left to its document (the log's own handle outranks the folder); a Backstage file
    is agency-wide: its folder, or `backstage` at the inbox root.
    """
    *folders, file_name = item.inbox_path.split("/")  # an inbox path from the walk: no empty or '.' parts
    stem, suffix = stem_and_suffix(file_name)  # as PurePosixPath's, without a path per receipt
    name, suffix = file_name.lower(), suffix.lower()
    folder = inbox_folder_handle(item.inbox_path)
    if name.endswith(SIDECAR_SUFFIX):
        return SIDECAR, folder
    if name.endswith(LOG_SUFFIXES):
        return LOG, None
    if any(part.lower() == "live" for part in folders) and suffix not in (*_SHEETS, ".zip"):
        return LOG, None
    if _BACKSTAGE_NAME.match(file_name):
        return BACKSTAGE, folder or BACKSTAGE_AT_INBOX_ROOT
    if suffix not in _SHEETS or strip_browser_repeat(stem).lower() in _STUDIO_STEMS:
        return None
    kind = _kind_by_header(_peek_header(item))
    if kind == BACKSTAGE:
        return BACKSTAGE, folder or BACKSTAGE_AT_INBOX_ROOT
    return (kind, folder) if kind else None


def _kind_by_header(header: list[str] | None) -> str | None:
    if not header:
        return None
    if live_center_kind_of_header(header) is not None:
        return LIVE_CENTER
    return BACKSTAGE if is_backstage_header(header) else None


def _peek_header(item: Received) -> list[str] | None:
    """The first non-blank row of a bare CSV or XLSX, or None when it cannot be read cheaply and safely."""
    try:
        if str(item.stored).lower().endswith(".xlsx") or item.original_name.lower().endswith(".xlsx"):
            return _xlsx_header(item)
        with open(item.stored, "rb") as stream:
            head = stream.read(_PEEK_BYTES)
        text = head.decode("utf-8-sig", errors="replace")
        lines = [line for line in text.splitlines() if line.strip()]
        return trim_header(next(csv.reader(lines[:1]))) if lines else None
    except Exception:  # a hostile or broken file: the Studio reader quarantines it with the reason
        return None


def _xlsx_header(item: Received) -> list[str] | None:
    import openpyxl

    stored = Path(item.stored)
    if stored.stat().st_size > MAX_ENTRY_BYTES:
        return None
    data = stored.read_bytes()
    try:
        check_xlsx_container(data)
    except RefusedArchive:
        return None
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for row in book.worksheets[0].iter_rows(values_only=True, max_row=50):
            if any(cell is not None and str(cell).strip() for cell in row):
                return trim_header(list(row))
    finally:
        book.close()
    return None


# --- a log and its sidecar ---------------------------------------------------------------------------


def sidecar_path(log_path: str) -> str:
    """`a/live/x.jsonl.gz` → `a/live/x.session.json` (the recorder's naming, docs/live.md)."""
    lowered = log_path.lower()
    for suffix in sorted(LOG_SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix):
            return log_path[: -len(suffix)] + SIDECAR_SUFFIX
    return log_path + SIDECAR_SUFFIX  # a log in live/ under another name: `<name>.session.json`


def log_paths(sidecar: str) -> tuple[str, ...]:
    """The logs a sidecar may describe: `x.session.json` → `x.jsonl`, `x.jsonl.gz` (and `x` itself)."""
    stem = sidecar[: -len(SIDECAR_SUFFIX)]
    return (*(stem + suffix for suffix in LOG_SUFFIXES), stem)


def pair(
    con: duckdb.DuckDBPyConnection, paths: DataPaths, items: list[Received], kinds: dict[tuple[str, str], str]
) -> tuple[list[tuple[Received, str, Received | None]], list[str]]:
    """The documents to (re)land, each (receipt, kind, sidecar or None), and notes for the log.

    Every log and sheet of the batch, plus the logs received earlier whose sidecar arrived now. A log is read
    with the newest sidecar at its sidecar path: this batch's (`items` are in manifest order: a later receipt
    is newer), else the newest in raw.archive_manifest (empty during a replay, which has every receipt).
    """
    kinds = {(i.sha256, i.inbox_path): kinds.get((i.sha256, i.inbox_path)) or _kind(i) for i in items}
    logs = [i for i in items if kinds[(i.sha256, i.inbox_path)] == LOG]
    sidecars = {i.inbox_path: i for i in items if kinds[(i.sha256, i.inbox_path)] == SIDECAR}  # the last wins
    documents = [
        (i, kinds[(i.sha256, i.inbox_path)], None)
        for i in items
        if kinds[(i.sha256, i.inbox_path)] not in (LOG, SIDECAR)
    ]
    notes = []
    in_batch = {(i.sha256, i.inbox_path) for i in logs}
    batch_log_paths = {i.inbox_path for i in logs}
    for path in sidecars:
        earlier = [
            r
            for r in _archived(con, paths, [p for p in log_paths(path) if p not in batch_log_paths])
            if (r.sha256, r.inbox_path) not in in_batch
        ]
        if not earlier and not batch_log_paths.intersection(log_paths(path)):
            notes.append(
                f"{shown_name(path)}: a session sidecar waiting for its log ({shown_name(log_paths(path)[0])})"
            )
        for log in earlier:  # received before its sidecar: read again with it (same document, replaced)
            in_batch.add((log.sha256, log.inbox_path))
            logs.append(log)
    missing = sorted({sidecar_path(log.inbox_path) for log in logs} - set(sidecars))
    archived = {r.inbox_path: r for r in _archived(con, paths, missing)}  # oldest first: the newest wins
    for log in logs:
        path = sidecar_path(log.inbox_path)
        documents.append((log, LOG, sidecars.get(path) or archived.get(path)))
    return documents, notes


def _kind(item: Received) -> str:
    claim = classify(item)
    if claim is None:
        raise ValueError(f"{item.inbox_path} is not a LIVE file")
    return claim[0]


def _archived(con: duckdb.DuckDBPyConnection, paths: DataPaths, inbox_paths: list[str]) -> list[Received]:
    """Receipts recorded before this batch at these inbox paths, oldest first."""
    if not inbox_paths:
        return []
    rows = con.execute(
        """select sha256, archive_path, original_name, inbox_path, source_mtime from raw.archive_manifest
        where inbox_path in (select unnest(?)) order by received_at, sha256""",
        [inbox_paths],
    ).fetchall()
    keys = ("sha256", "archive_path", "original_name", "inbox_path", "source_mtime")
    return received_from_manifest(paths, [dict(zip(keys, row, strict=True)) for row in rows])
