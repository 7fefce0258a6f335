"""Inbox → immutable archive: find what is new in the inbox, store its bytes once, record the receipt.

A scan costs a stat per file: inbox files already seen are recognised by (path, size, mtime) without
being read, and archived bytes by their hash. The manifest lines (`manifest.jsonl` and
`raw.archive_manifest`) are written only after the documents are loaded (see `landing.land_inbox`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.core.archive import (
    ManifestRow,
    append_manifest,
    archive_path_for,
    sha256_of,
    store,
)
from orchestration.lib.core.inbox import is_received_file
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.studio.provenance import facts_from_name, strip_browser_repeat
from schemas.studio_files import STUDIO_FILE_KINDS

_SECTION_KIND = {"Overview": "overview", "Content": "content", "Followers": "followers", "Viewers": "viewers"}


@dataclass(frozen=True)
class Received:
    """A file to land: where its bytes are and what its name and inbox place say."""

    sha256: str
    stored: Path  # archive copy
    original_name: str
    inbox_path: str
    mtime: datetime


@dataclass
class InboxScan:
    files_seen: int = 0
    received: list[Received] = field(default_factory=list)  # newly archived, to be read
    manifest_rows: list[ManifestRow] = field(default_factory=list)  # their manifest lines, once read
    seen_rows: list[tuple] = field(default_factory=list)  # (path, size, mtime_ns, sha) of hashed files


def archive_new_inbox_files(paths: DataPaths, con: duckdb.DuckDBPyConnection) -> InboxScan:
    """Store the bytes of every new inbox file in the archive; the files to read and their receipts."""
    scan = InboxScan()
    seen_rows, manifest_rows, received = scan.seen_rows, scan.manifest_rows, scan.received
    known = {p: (s, m, h) for p, s, m, h in con.execute("select * from landing.inbox_files").fetchall()}
    archived = {h for (h,) in con.execute("select sha256 from raw.archive_manifest").fetchall()}
    now = datetime.now(UTC).replace(tzinfo=None)
    # Sorted so that, within one drop, the same bytes under two names are recorded under the first name.
    for path in sorted(p for p in paths.inbox.rglob("*") if p.is_file() and is_received_file(p)):
        scan.files_seen += 1
        relative = path.relative_to(paths.inbox).as_posix()
        stat = path.stat()
        cached = known.get(relative)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            continue
        sha = sha256_of(path)
        seen_rows.append((relative, stat.st_size, stat.st_mtime_ns, sha))
        if sha in archived:
            continue  # the same bytes were received before: recorded once
        archived.add(sha)
        destination = archive_path_for(paths.archive, sha, path.name)
        store(path, destination)
        mtime = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
        received.append(Received(sha, destination, path.name, relative, mtime))
        names = facts_from_name(relative)
        manifest_rows.append(
            ManifestRow(
                sha256=sha,
                original_name=path.name,
                inbox_path=relative,
                archive_path=destination.relative_to(paths.archive).as_posix(),
                account_handle=names.handle,
                file_kind=_file_kind(path.name, names.section),
                export_date=None,  # filled from the documents once read (anchors need the contents)
                export_date_source=None,
                size_bytes=stat.st_size,
                source_mtime=mtime.isoformat(),
                received_at=now.isoformat(),
            )
        )
    return scan


def _file_kind(name: str, section: str | None) -> str:
    if section:
        return _SECTION_KIND[section]
    stem = strip_browser_repeat(Path(name).stem).lower()
    return next((k.kind for k in STUDIO_FILE_KINDS.values() if k.entry_stem.lower() == stem), "unknown")


def remember_inbox_files(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """One bulk upsert (a row-by-row executemany takes minutes for an agency's backfill)."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=["inbox_path", "size_bytes", "mtime_ns", "sha256"])
    con.register("seen_inbox_files", frame)
    con.execute("insert or replace into landing.inbox_files select * from seen_inbox_files")
    con.unregister("seen_inbox_files")


def record_manifest(
    paths: DataPaths, con: duckdb.DuckDBPyConnection, rows: list[ManifestRow], documents: pd.DataFrame
) -> None:
    """Append new archive objects to manifest.jsonl and raw.archive_manifest, with their export date."""
    if not rows:
        return
    if len(documents):
        dated = (
            documents.sort_values(["archive_sha256", "document_id"])
            .groupby("archive_sha256")
            .agg(
                export_date=("export_date", "max"),
                source=("export_date_source", "first"),
                handle=("account_handle", "max"),
            )
        )
        for i, row in enumerate(rows):
            if row.sha256 in dated.index:
                fact = dated.loc[row.sha256]
                rows[i] = replace(
                    row,
                    export_date=fact["export_date"].date().isoformat(),
                    export_date_source=fact["source"],
                    account_handle=row.account_handle or (None if pd.isna(fact["handle"]) else fact["handle"]),
                )
    append_manifest(paths.manifest, rows)
    frame = pd.DataFrame([asdict(r) for r in rows])
    con.register("incoming_manifest", frame)
    con.execute(
        """insert or ignore into raw.archive_manifest
        select sha256, original_name, inbox_path, archive_path, account_handle, file_kind,
               cast(export_date as date), export_date_source, size_bytes,
               cast(source_mtime as timestamp), cast(received_at as timestamp)
        from incoming_manifest"""
    )
    con.unregister("incoming_manifest")
