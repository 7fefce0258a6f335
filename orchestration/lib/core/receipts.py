"""Inbox → immutable archive, for every source: what is new in the inbox, its bytes stored once, its receipt.

A *receipt* is one inbox path holding some bytes: the same bytes at two paths (the unchanged
FollowerGender.csv of two dated folders, one log in two account folders) are stored once but are two
receipts, two sets of documents, each with the account and export date its own path gives. The same
bytes at the same path again (a re-drop, a touched file) are no new receipt.

A scan costs what is new, not what is known (the walk is `core.inbox.walk_inbox`: litter skipped, links
and special files refused). A folder unchanged since the last scan (its stamp: inode, mtime, ctime) is
not listed again and its files are not stat'ed, when it was cached: listed at least `SETTLE_NS` after its
last change, with every file received and none quarantined now (a corrected file is dropped at the same
path). Other inbox files already seen are recognised by (path, size, mtime) without being read, known
receipts by (sha256, inbox path); only new files are hashed and stored (`core.archive_batch`).
The trade-off: a known file rewritten in place (same name, e.g. by `cp`) inside an unchanged cached
folder is noticed by the next full scan: the first landing `TIKTOK_FULL_SCAN_DAYS` days (7 by default) after
the last full one, `TIKTOK_FULL_SCAN=1`, or when the cache is lost with the working database. The manifest
lines (`manifest.jsonl` and `raw.archive_manifest`) and the caches are written only after the documents are
loaded (`core.receipt_manifest`, called by `studio.landing.land_inbox`).

This step does not know what a file is: a `ReceiptSource` (the LIVE inputs) claims the receipts it
reads, the Studio reader takes the rest. Sources plug in from above (Dagster wiring, the CLI), since
`lib/studio` and `lib/live` may not import each other.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Protocol

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.lib.core.archive import ManifestRow, archive_mode_from_env
from orchestration.lib.core.archive_batch import ArchiveBatch
from orchestration.lib.core.archive_upkeep import break_links_once, verify_not_yet_durable
from orchestration.lib.core.inbox import FolderCache, FolderListing, InboxFile, InboxWalk, walk_inbox
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.receipt_moments import as_first_received, first_moments


@dataclass(frozen=True)
class Received:
    """A receipt to land: where its bytes are and what its name and inbox place say."""

    sha256: str
    stored: Path | str  # archive copy (text while landing: a Path per receipt cost 20 µs of the scan)
    original_name: str
    inbox_path: str  # inbox-relative, valid UTF-8: with sha256, the receipt's key
    mtime: datetime  # the file's modification time, never after it was received (`_not_after`)


@dataclass
class InboxScan:
    files_seen: int = 0
    received: list[Received] = field(default_factory=list)  # new receipts, to be read
    manifest_rows: list[ManifestRow] = field(default_factory=list)  # their manifest lines, once read
    seen_rows: list[tuple] = field(default_factory=list)  # (path, size, mtime_ns, sha) of hashed files
    walk: InboxWalk = field(default_factory=InboxWalk)  # what was ignored, refused or renamed
    unsettled: set[str] = field(default_factory=set)  # folders (cache keys) holding a file not read this time
    stored: dict[str, int] = field(default_factory=dict)  # linked / copied / present: how new bytes were stored
    set_aside: list[str] = field(default_factory=list)  # archive objects a stopped landing cut short (archive_upkeep)
    full_scan_at: datetime | None = None  # when the walk started, if it used no folder cache (a full scan)
    first_moments: dict[tuple, datetime] = field(default_factory=dict)  # (sha256, top folder) → earliest time


class ReceiptSource(Protocol):
    """A kind of received file read by its own reader (the LIVE inputs); Studio takes what none claims."""

    def claims(self, item: Received) -> tuple[str, str | None] | None:
        """(file kind, account handle or None) for the manifest when this source reads `item`, else None."""

    def land(self, paths: DataPaths, con: duckdb.DuckDBPyConnection, items: list[Received]) -> SourceLanding:
        """Read, validate and load the claimed receipts (in manifest order)."""


@dataclass
class SourceLanding:
    """What a source landed: the shapes of the Studio landing report, merged into it."""

    documents: pd.DataFrame  # raw.documents rows (loaded and quarantined)
    receipts: int = 0  # receipts claimed (a sidecar is one, and no document)
    issues: list = field(default_factory=list)  # of quarantined documents: file, row, column, rule, message, value
    flags: pd.DataFrame | None = None  # raw.row_flags rows, plus `table`: the raw table each flag is about
    rows_by_table: dict[str, int] = field(default_factory=dict)
    earliest_new_date: date | None = None  # the incremental marts recompute from here
    notes: list[str] = field(default_factory=list)  # log lines (e.g. a sidecar waiting for its log)
    seconds: dict[str, float] = field(default_factory=dict)


FULL_SCAN_ENV = "TIKTOK_FULL_SCAN"


def full_scan_from_env() -> bool:
    """`TIKTOK_FULL_SCAN=1`: list every folder and stat every file (the folder cache is rebuilt)."""
    return os.environ.get(FULL_SCAN_ENV, "").strip().lower() not in ("", "0", "false", "no")


# A full scan at least this often, so that a file rewritten in place in a cached folder waits at most this long.
# 107,728 files in 91 dated folders: a full scan 1.65-1.83 s, a cached one 0.42-0.48 s. Once a week by default.
FULL_SCAN_DAYS_ENV = "TIKTOK_FULL_SCAN_DAYS"
FULL_SCAN_DAYS = 7
MAX_FULL_SCAN_DAYS = 36_500  # a century: "almost never" (datetime arithmetic ends at year 1)


def full_scan_days_from_env() -> int:
    """`TIKTOK_FULL_SCAN_DAYS`: days between full scans (0: every landing); `FULL_SCAN_DAYS` when unset."""
    text = os.environ.get(FULL_SCAN_DAYS_ENV, "").strip()
    if not text:
        return FULL_SCAN_DAYS
    if not (text.isascii() and text.isdecimal() and int(text) <= MAX_FULL_SCAN_DAYS):
        raise ValueError(
            f"{FULL_SCAN_DAYS_ENV}={text!r}: give a whole number of days from 0 (a full scan every landing) to "
            f"{MAX_FULL_SCAN_DAYS:,} (almost never)"
        )
    return int(text)


def _full_scan_due(con: duckdb.DuckDBPyConnection, now: datetime, days: int) -> bool:
    """Whether this walk sets the folder cache aside: asked for, or the last full scan is `days` days old or more,
    unknown, or later than now (the clock was set back)."""
    if full_scan_from_env():
        return True
    ((last,),) = con.execute("select max(scanned_at) from landing.inbox_full_scan").fetchall()
    return last is None or not now - timedelta(days=days) < last <= now


def archive_new_inbox_files(
    paths: DataPaths,
    con: duckdb.DuckDBPyConnection,
    on_new: Callable[[int], None] | None = None,
    on_archived: Callable[[list[Received]], None] | None = None,
    commit_every: int | None = None,
) -> InboxScan:
    """Store the bytes of every new receipt in the archive; the receipts to read and their manifest rows
    (account and file kind still unknown: the landing fills them in once it knows who reads each receipt).
    `on_new` learns how many inbox files are new before they are hashed (the landing starts its workers);
    `on_archived` gets the new receipts as soon as they are committed, every `commit_every` receipts (all at
    once by default), so that a large drop is read while its next files are still being hashed."""
    now_ns = time.time_ns()
    link = archive_mode_from_env() == "link"
    full_scan_days = full_scan_days_from_env()  # a bad value is refused before the archive is touched
    copies_only = paths.warehouse.parent / "archive_copies_only"  # break_links_once walked the archive
    # copies a landing that stopped (a kill, a crash) left not yet durable: checked before anything is stored
    set_aside = verify_not_yet_durable(paths.archive, lambda: _archive_paths_named(con))
    if link:
        copies_only.unlink(missing_ok=True)  # links may be made again
    else:
        break_links_once(paths.archive, copies_only)
    started = mtime_moment(now_ns)
    with ArchiveBatch(paths.archive, link=link, now_ns=now_ns) as batch:
        # none known: a first landing (or a cleared warehouse), most likely of many files: flushed while listed
        known = _inbox_files_known(con)
        folders = _folder_cache(con) if known and not _full_scan_due(con, started, full_scan_days) else None
        if not known:
            batch.flush_ahead()
        walk = walk_inbox(paths.inbox, folders, now_ns=now_ns)
        scan = InboxScan(files_seen=len(walk.files), walk=walk, set_aside=set_aside)
        scan.full_scan_at = None if folders else started
        new = _not_seen_before(con, [file for file in walk.files if not file.unchanged])
        receipts = _receipts_at(con, new)
        if on_new is not None:
            on_new(len(new))
        now = datetime.now(UTC).replace(tzinfo=None)
        handed = 0  # receipts passed to on_archived
        for file in new:  # sorted by path: the same drop always lands in the same order
            name = file.relative.rsplit("/", 1)[-1]
            try:
                stored = batch.receive(file.os_path, name)
            except OSError as error:  # swapped for a link, vanished or still being written: not this run
                walk.refused.append((file.relative, f"could not be read safely ({error})"))
                scan.unsettled.add(file.folder)
                continue
            scan.seen_rows.append((file.relative, file.size, file.mtime_ns, stored.sha256))
            if (stored.sha256, file.relative) in receipts:  # the same bytes at the same path: received before
                continue
            receipts.add((stored.sha256, file.relative))
            mtime = mtime_moment(file.mtime_ns)
            scan.received.append(
                Received(stored.sha256, stored.destination, name, file.relative, _not_after(mtime, now))
            )
            scan.manifest_rows.append(
                ManifestRow(
                    sha256=stored.sha256,
                    original_name=name,
                    inbox_path=file.relative,
                    archive_path=stored.archive_path,
                    account_handle=None,
                    file_kind="unknown",
                    export_date=None,  # filled from the documents once read (anchors need the contents)
                    export_date_source=None,
                    size_bytes=stored.size,
                    source_mtime=mtime.isoformat(),
                    received_at=now.isoformat(),
                )
            )
            if commit_every is not None and len(scan.received) - handed >= commit_every:
                handed = _hand_over(con, batch, scan, handed, on_archived, last=False)
        _hand_over(con, batch, scan, handed, on_archived, last=True)
        scan.stored = dict(batch.counts)
    return scan


def _hand_over(
    con: duckdb.DuckDBPyConnection, batch: ArchiveBatch, scan: InboxScan, handed: int, on_archived, *, last: bool
) -> int:
    """Commit what is stored, then pass the receipts not handed over yet to `on_archived`; how many were. Named
    before anything reads them (a link's bytes durable; a copy's bytes from the page cache, durable by the last
    commit); the names made durable by the last commit (or by the batch's
    exit, when the landing stops half-way), before any manifest line can name them."""
    batch.commit(names_durable=last)
    scan.received[handed:] = as_first_received(con, scan.received[handed:], scan.first_moments)
    if on_archived is not None and len(scan.received) > handed:
        on_archived(scan.received[handed:])
    return len(scan.received)


def _archive_paths_named(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The archive objects some receipt names (archive-relative paths)."""
    return {path for (path,) in con.execute("select distinct archive_path from raw.archive_manifest").fetchall()}


def _not_seen_before(con: duckdb.DuckDBPyConnection, files: list[InboxFile]) -> list[InboxFile]:
    """The files not hashed before with this size and mtime (`landing.inbox_files`), in order.

    An anti-join that answers with the new files' positions: a flat download folder of 108,896 known files, listed
    again each day, took 0.35 s fetching every known path back and 0.14 s this way (docs/benchmarks.md). Two files
    whose names differ only in bytes that are not UTF-8 share their safe inbox path: each is checked on its own
    (the one whose size and mtime the table does not hold is hashed again, no new receipt if its bytes are known),
    where a match of either used to vouch for both and a rewrite of the other went unseen."""
    if not files:
        return []
    walked = pa.table(
        {
            "position": pa.array(range(len(files)), pa.int64()),
            "inbox_path": pa.array([f.relative for f in files], pa.string()),
            "size_bytes": pa.array([f.size for f in files], pa.int64()),
            "mtime_ns": pa.array([f.mtime_ns for f in files], pa.int64()),
        }
    )
    con.register("walked_inbox_files", walked)
    try:
        new = con.execute(
            """select w.position from walked_inbox_files w anti join landing.inbox_files f
            on f.inbox_path = w.inbox_path and f.size_bytes = w.size_bytes and f.mtime_ns = w.mtime_ns
            order by w.position"""
        ).fetchall()
    finally:
        con.unregister("walked_inbox_files")
    return [files[position] for (position,) in new]


def _receipts_at(con: duckdb.DuckDBPyConnection, files: list[InboxFile]) -> set[tuple[str, str]]:
    """The receipts (sha256, inbox path) recorded at these files' paths."""
    if not files:
        return set()
    con.register("new_inbox_paths", pd.DataFrame({"inbox_path": [f.relative for f in files]}))
    try:
        rows = con.execute(
            """select sha256, inbox_path from raw.archive_manifest
            where inbox_path in (select inbox_path from new_inbox_paths)"""
        ).fetchall()
    finally:
        con.unregister("new_inbox_paths")
    return set(rows)


def _inbox_files_known(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("select exists (select 1 from landing.inbox_files)").fetchall()[0][0]


def _folder_cache(con: duckdb.DuckDBPyConnection) -> FolderCache:
    """The folders listed by earlier scans (asked for only while an inbox file is known: a cleared warehouse keeps
    no cache)."""
    rows = con.execute("select folder, stamp, entries from landing.inbox_folders").fetchall()
    return {
        _decoded(folder): FolderListing(stamp, _unpacked(entries), listed=False, settled=True)
        for folder, stamp, entries in rows
    }


# On-disk names may hold bytes that are not UTF-8 (surrogate escapes in Python): stored as bytes.
def _encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _decoded(data: bytes) -> str:
    return bytes(data).decode("utf-8", "surrogateescape")


def _packed(entries) -> bytes:
    """name, kind, size, mtime_ns of each entry, NUL-separated (no file name holds a NUL)."""
    return _encoded("\0".join(f"{name}\0{kind}\0{size}\0{mtime}" for name, kind, size, mtime in entries))


def _unpacked(data: bytes) -> list[tuple[str, str, int, int]]:
    if not data:
        return []
    fields = _decoded(data).split("\0")
    sizes, mtimes = map(int, fields[2::4]), map(int, fields[3::4])
    return list(zip(fields[0::4], fields[1::4], sizes, mtimes, strict=True))


def remember_scan(con: duckdb.DuckDBPyConnection, scan: InboxScan) -> None:
    """After the landing: the files hashed, the folders a next scan need not list again, and when a full scan
    (one without the folder cache) started."""
    remember_inbox_files(con, scan.seen_rows)
    if scan.full_scan_at is not None:
        con.execute("delete from landing.inbox_full_scan")
        con.execute("insert into landing.inbox_full_scan values (?)", [scan.full_scan_at])
    keep = _cacheable_folders(con, scan)
    con.register("kept_inbox_folders", pd.DataFrame({"folder": [_encoded(key) for key in keep]}, dtype="object"))
    try:
        con.execute("delete from landing.inbox_folders where folder not in (select folder from kept_inbox_folders)")
    finally:
        con.unregister("kept_inbox_folders")
    listed = [
        (_encoded(key), listing.stamp, _packed(listing.entries)) for key, listing in keep.items() if listing.listed
    ]
    if listed:
        con.register("listed_inbox_folders", pd.DataFrame(listed, columns=["folder", "stamp", "entries"]))
        try:
            con.execute("insert or replace into landing.inbox_folders select * from listed_inbox_folders")
        finally:
            con.unregister("listed_inbox_folders")


def _cacheable_folders(con: duckdb.DuckDBPyConnection, scan: InboxScan) -> dict[str, FolderListing]:
    """Folders listed settled, whose files were all read and none is quarantined now."""
    quarantined = {
        path
        for (path,) in con.execute(
            """with latest as (
                select inbox_path, arg_max(sha256, received_at) as sha256 from raw.archive_manifest group by inbox_path)
            select distinct l.inbox_path from latest l join raw.documents d
            on d.archive_sha256 = l.sha256 and d.status = 'quarantined'
            and starts_with(d.document_id, l.sha256 || ':' || left(sha256(l.inbox_path), 12) || ':')"""
        ).fetchall()
    }
    unsettled = scan.unsettled | {f.folder for f in scan.walk.files if f.relative in quarantined}
    return {key: listing for key, listing in scan.walk.folders.items() if listing.settled and key not in unsettled}


def mtime_moment(mtime_ns: int) -> datetime:
    """Naive UTC, exact to the microsecond (a float timestamp can be off by one)."""
    seconds, nanoseconds = divmod(mtime_ns, 1_000_000_000)
    return datetime(1970, 1, 1) + timedelta(seconds=seconds, microseconds=nanoseconds // 1000)


def received_from_manifest(paths: DataPaths, rows: list[dict]) -> list[Received]:
    """The receipts of manifest lines (or raw.archive_manifest rows), to be read again, each dated as when it
    landed (`receipt_moments.first_moments`)."""
    moments = [_not_after(_moment(r["source_mtime"]), _moment(r.get("received_at"))) for r in rows]
    shas, places = [r["sha256"] for r in rows], [r["inbox_path"] for r in rows]
    firsts = first_moments(shas, places, moments, [_moment(r.get("received_at")) for r in rows])
    return [
        Received(r["sha256"], paths.archive / r["archive_path"], r["original_name"], r["inbox_path"], first)
        for r, first in zip(rows, firsts, strict=True)
    ]


def _moment(value: datetime | str | None) -> datetime | None:
    return value if value is None or isinstance(value, datetime) else datetime.fromisoformat(value)


def _not_after(mtime: datetime, received_at: datetime | None) -> datetime:
    """A file's time as an export moment: never after it was received. A modification time in the future (a clock
    set ahead, a `touch`) would date an export's year-less days in the wrong year; the manifest keeps it as it was."""
    return mtime if received_at is None or mtime <= received_at else received_at


def remember_inbox_files(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """One bulk upsert (a row-by-row executemany takes minutes for an agency's backfill)."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=["inbox_path", "size_bytes", "mtime_ns", "sha256"])
    con.register("seen_inbox_files", frame)
    con.execute("insert or replace into landing.inbox_files select * from seen_inbox_files")
    con.unregister("seen_inbox_files")


# --- what an inbox path says, whatever the source ------------------------------------------------

# Browsers rename repeated downloads: "Content 2.csv" (Safari), "Viewers (1).csv" (Chrome, Edge), "Content_x(3).zip"
# (Firefox: no space), and a copy of a repeated one again: "Followers_x (5) (1).zip". No handle holds "(".
_BROWSER_REPEAT = re.compile(r"(?: ?\(\d+\)| \d+)+$")
_REPEAT_ENDS = frozenset(")0123456789")
_DATED_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HANDLE = re.compile(r"^[a-z0-9._]{1,64}$")


def stem_and_suffix(name: str) -> tuple[str, str]:
    """`PurePosixPath(name).stem` and `.suffix` of a file name, without making a path (called per file)."""
    if "/" in name or name == ".":
        name = PurePosixPath(name).name
    dot = name.rfind(".")
    return (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, "")


def strip_browser_repeat(stem: str) -> str:
    """'Content 2' → 'Content', 'Viewers (1)' → 'Viewers', 'Viewers(1)' → 'Viewers', 'Followers_x (5) (1)' →
    'Followers_x'."""
    return _BROWSER_REPEAT.sub("", stem) if stem[-1:] in _REPEAT_ENDS else stem  # most names: no regex (per file)


def normalise_handle(raw: str) -> str | None:
    handle = raw.strip().lstrip("@").lower()
    return handle if _HANDLE.match(handle) else None


def is_dated_folder(name: str) -> bool:
    return bool(_DATED_FOLDER.match(name))


def inbox_folder_handle(inbox_relative: str) -> str | None:
    """The account folder `inbox/<handle>/...` (a dated folder `inbox/<YYYY-MM-DD>/` is no handle)."""
    folders = inbox_relative.split("/")[:-1]  # inbox paths come from the walk: no empty or '.' parts
    return normalise_handle(folders[0]) if folders and not is_dated_folder(folders[0]) else None


def inbox_folder_date(inbox_relative: str) -> date | None:
    """The day of a dated folder `inbox/<handle>/<YYYY-MM-DD>/` holding the file."""
    folders = inbox_relative.split("/")[:-1]
    if not folders or not _DATED_FOLDER.match(folders[-1]):
        return None
    try:
        return date.fromisoformat(folders[-1])
    except ValueError:
        return None
