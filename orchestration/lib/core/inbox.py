"""The one walk of the inbox: which entries are received files, which are litter, which are refused.

Used by the landing scan and by the sensor's fingerprint, so both see the same files. The walk only
calls `lstat` and `scandir`; it never opens a file and never follows a link. Given the folders of an
earlier walk (`core.receipts` keeps them), a folder whose stamp (device, inode, mtime, ctime) is
unchanged is not listed again: adding, removing or renaming an entry changes it, so its listing still
holds, and its files' sizes and mtimes come from the earlier walk without a stat (see
`core.receipts` for when a folder is cached, and the trade-off).

- **Received files**: regular files (`S_ISREG` on `lstat`) outside hidden and litter folders.
- **Litter**, skipped without a report (counted, with a few examples, in the landing report): what
  operating systems, browsers and office suites leave beside downloads: `.DS_Store`, `._*`,
  `__MACOSX/`, `desktop.ini`, `Thumbs.db`, `*:Zone.Identifier`, partial downloads (`.crdownload`,
  `.part`, `.partial`, `.download`, `.tmp`, Safari's `*.download/` folders), Office and LibreOffice
  lock files (`~$*`, `.~lock*`), any other hidden file (name starting with a dot), and the hidden
  folders of removable drives (`.Trashes`, `.Spotlight-V100`, `$RECYCLE.BIN`, ...).
- **Refused**, never opened and never archived, each with a reason for the log: symbolic links
  (file or folder, pointing inside the inbox or not: never followed), FIFOs, sockets and devices, a file
  whose modification time does not fit in 64 bits of nanoseconds (after the year 2262), and any other folder
  whose name starts with a dot (an account folder is `inbox/<handle>/`; `.` and `..` never appear in a listing).

A name that is not valid UTF-8 (bytes from another system's encoding) is read through a safe name:
the undecodable bytes become U+FFFD (`os.fsencode(name).decode("utf-8", "replace")`), so every path
reaching DuckDB, JSON and logs is valid text; the file itself is still opened by its real name.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

LITTER_NAMES = frozenset({".ds_store", "desktop.ini", "thumbs.db", "ehthumbs.db", "icon\r"})
LITTER_PREFIXES = (".", "~$")  # hidden files (._*, .~lock*, .DS_Store) and Office lock files
LITTER_SUFFIXES = (":zone.identifier", ".crdownload", ".part", ".partial", ".download", ".tmp")
LITTER_FOLDERS = frozenset(
    {
        "__macosx",
        ".trashes",
        ".trash",
        ".spotlight-v100",
        ".fseventsd",
        ".temporaryitems",
        ".documentrevisions-v100",
        "$recycle.bin",
        "system volume information",
    }
)
LITTER_FOLDER_SUFFIXES = (".download",)  # Safari keeps an unfinished download in `<name>.download/`


def is_litter_file(name: str) -> bool:
    lowered = name.lower()
    return lowered in LITTER_NAMES or lowered.startswith(LITTER_PREFIXES) or lowered.endswith(LITTER_SUFFIXES)


def is_litter_folder(name: str) -> bool:
    lowered = name.lower()
    return lowered in LITTER_FOLDERS or lowered.endswith(LITTER_FOLDER_SUFFIXES)


def safe_name(name: str) -> str:
    """`name` as valid UTF-8 text: bytes that are not UTF-8 become U+FFFD (the same name every run)."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:  # surrogate escapes: the file system gave bytes that are not UTF-8
        return os.fsencode(name).decode("utf-8", errors="replace")


# Control characters (C0, DEL, C1) and the bidirectional overrides a name may hold: printed as they are, a file named
# "Overview\nquarantined evil.csv" forged a line of the run summary and ESC sequences coloured the terminal (review).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown_name(name: str) -> str:
    """An inbox name as a summary or log line shows it: control characters escaped (`\\n`, `\\x1b`, `\\u202e`),
    the rest as it is. The stored name stays exact."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], name)


# A folder, or a file in it, changed less than this long before a scan may still change within the
# same timestamp tick (2 s: FAT's granularity, the coarsest the inbox may live on): it is listed again.
SETTLE_NS = 2_000_000_000


class InboxFile(NamedTuple):
    """A received file. A tuple, and its `Path` made on demand: an agency's inbox holds 100,000 of them."""

    os_path: str  # on disk, by its real name (which may not be UTF-8)
    relative: str  # inbox-relative POSIX path, always valid UTF-8
    size: int
    mtime_ns: int
    folder: str = ""  # key of its folder in the folder cache (on-disk relative path, "" for the inbox)
    unchanged: bool = False  # the folder cache vouches it was received, and is unchanged, since then

    @property
    def path(self) -> Path:
        return Path(self.os_path)


@dataclass(frozen=True)
class FolderListing:
    """One folder as listed: its stamp then, and its entries as the file system said (not yet classified).

    `entries` are (name on disk, kind, size, mtime_ns), by name; kind is "f" (regular file), "d" (folder),
    "l" (symbolic link) or "s" (FIFO, socket, device); size and mtime only for files.
    """

    stamp: str  # "dev:inode:mtime_ns:ctime_ns" of the folder: any entry added, removed or renamed changes it
    entries: Sequence[Sequence]  # (name, kind, size, mtime_ns): tuples when listed, lists from the cache
    listed: bool = True  # listed by this walk (False: taken from the cache, folder unchanged)
    settled: bool = False  # the folder and its files were older than SETTLE_NS when listed: cacheable


FolderCache = dict[str, FolderListing]  # folder key (on-disk relative path, "" for the inbox) → listing


@dataclass
class InboxWalk:
    files: list[InboxFile] = field(default_factory=list)  # sorted by relative path
    ignored: list[str] = field(default_factory=list)  # litter (a litter folder counts once)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    renamed: list[str] = field(default_factory=list)  # safe paths of files whose path was not UTF-8
    folders: FolderCache = field(default_factory=dict)  # every folder walked, listed now or taken from the cache


REFUSED_LINK = "a symbolic link: links are never followed; copy the file itself into the inbox"
REFUSED_SPECIAL = "not a regular file (FIFO, socket or device): never opened"
REFUSED_TIME = (
    "its modification time is outside what can be recorded (after 2262-04-11 or before 1677-09-21, a file system's "
    "nanoseconds beyond 64 bits): never opened; give it a real date (e.g. `touch` it) and it lands on the next run"
)
# A file's mtime in nanoseconds is recorded as a 64-bit integer (landing.inbox_files, the folder cache): one beyond
# it (`touch -d 2300-01-01` on ext4) stopped every landing of the inbox, not just its own.
_RECORDABLE_NS = range(-(1 << 63), 1 << 63)
REFUSED_HIDDEN_FOLDER = (
    "a hidden folder (its name starts with '.'): nothing inside is read; "
    "put exports in inbox/ or inbox/<handle>/ (a handle never starts with '.')"
)


def walk_inbox(inbox: Path, cache: FolderCache | None = None, *, now_ns: int | None = None) -> InboxWalk:
    """Every entry under `inbox`, classified; the inbox folder itself may be a link (e.g. to a synced folder).

    With `cache` (the `folders` of an earlier walk, see `core.receipts`), a folder whose stamp is unchanged
    is not listed again and its files are not stat'ed: they come from the cache, marked `unchanged`. A file
    in a folder listed again is `unchanged` when the cache knew it with the same size and mtime.
    """
    walk = InboxWalk()
    now_ns = time.time_ns() if now_ns is None else now_ns
    try:
        stamp = os.stat(inbox)
    except OSError:
        return walk
    if stat.S_ISDIR(stamp.st_mode):
        _Walker(walk, cache or {}, now_ns - SETTLE_NS).folder(os.fspath(inbox), "", "", stamp, False)
    walk.files.sort(key=lambda f: f.relative)  # by inbox path: the walk goes depth first ('a/x' before 'a b.zip')
    return walk


def _stamp(status: os.stat_result) -> str:
    return f"{status.st_dev}:{status.st_ino}:{status.st_mtime_ns}:{status.st_ctime_ns}"


class _Walker:
    def __init__(self, walk: InboxWalk, cache: FolderCache, settled_before_ns: int):
        self.walk, self.cache, self.settled_before_ns = walk, cache, settled_before_ns

    def folder(self, os_path: str, key: str, prefix: str, status: os.stat_result, renamed: bool) -> None:
        """Walk one folder: `key` is its on-disk relative path, `prefix` its safe one (both end with '/')."""
        walk, stamp = self.walk, _stamp(status)
        cached = self.cache.get(key)
        if cached is not None and cached.stamp == stamp:
            listing = replace(cached, listed=False)
            known = None  # every file of an unchanged folder is vouched for
        else:
            listing = self._list(os_path, prefix, stamp, status)
            if listing is None:
                return
            known = {name: (size, mtime) for name, kind, size, mtime in cached.entries if kind == "f"} if cached else {}
        walk.folders[key] = listing
        for name, kind, size, mtime_ns in listing.entries:
            safe = safe_name(name)
            relative, child = prefix + safe, os_path + os.sep + name
            if kind == "d":
                if is_litter_folder(safe):
                    walk.ignored.append(relative + "/")
                elif safe.startswith("."):
                    walk.refused.append((relative + "/", REFUSED_HIDDEN_FOLDER))
                else:
                    try:
                        child_status = os.lstat(child)
                    except FileNotFoundError:  # removed while we looked
                        continue
                    if stat.S_ISDIR(child_status.st_mode):  # else replaced since listed: the next walk sees it
                        self.folder(child, key + name + "/", relative + "/", child_status, renamed or safe != name)
            elif is_litter_file(safe):
                walk.ignored.append(relative)
            elif kind == "l":
                walk.refused.append((relative, REFUSED_LINK))
            elif kind == "s":
                walk.refused.append((relative, REFUSED_SPECIAL))
            elif mtime_ns not in _RECORDABLE_NS:
                walk.refused.append((relative, REFUSED_TIME))
                # never cached: the fix the reason asks for (`touch`) changes the file, not its folder's stamp
                walk.folders[key] = replace(walk.folders[key], settled=False)
            else:
                if renamed or safe != name:
                    walk.renamed.append(relative)
                unchanged = known is None or known.get(name) == (size, mtime_ns)
                walk.files.append(InboxFile(child, relative, size, mtime_ns, key, unchanged))

    def _list(self, os_path: str, prefix: str, stamp: str, status: os.stat_result) -> FolderListing | None:
        """List a folder: a folder is told by the listing itself, any other entry by a stat."""
        try:
            scanned = sorted(os.scandir(os_path), key=lambda e: e.name)
        except OSError as error:  # unreadable folder: say so, keep walking the rest
            self.walk.refused.append((prefix.rstrip("/") or ".", f"folder could not be listed ({error.strerror})"))
            return None
        settled = max(status.st_mtime_ns, status.st_ctime_ns) <= self.settled_before_ns
        entries = []
        for entry in scanned:
            try:
                if entry.is_dir(follow_symlinks=False):  # from the listing (d_type): no stat
                    entries.append((entry.name, "d", 0, 0))
                else:
                    found = entry.stat(follow_symlinks=False)
                    kind = "f" if stat.S_ISREG(found.st_mode) else "l" if stat.S_ISLNK(found.st_mode) else "s"
                    entries.append((entry.name, kind, found.st_size, found.st_mtime_ns))
                    settled = settled and max(found.st_mtime_ns, found.st_ctime_ns) <= self.settled_before_ns
            except FileNotFoundError:  # removed while we looked
                continue
        return FolderListing(stamp, entries, listed=True, settled=settled)


def describe_skipped(walk: InboxWalk, examples: int = 3) -> list[tuple[str, str]]:
    """Log lines (level, message) for what a walk skipped: one line for litter, one per refusal."""
    lines = []
    if walk.ignored:
        shown = ", ".join(map(shown_name, walk.ignored[:examples])) + (", ..." if len(walk.ignored) > examples else "")
        lines.append(("info", f"ignored {len(walk.ignored)} OS/browser leftover(s) in the inbox (e.g. {shown})"))
    for relative in walk.renamed:
        lines.append(
            ("info", f"{shown_name(relative)}: file name is not valid UTF-8; landed under this name (� = bad bytes)")
        )
    for relative, reason in walk.refused:
        lines.append(("warning", f"refused {shown_name(relative)}: {reason}"))
    return lines
