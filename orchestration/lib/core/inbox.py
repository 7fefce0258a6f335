"""The one walk of the inbox: which entries are received files, which are litter, which are refused.

Used by the landing scan and by the sensor's fingerprint, so both see the same files. The walk only
calls `lstat` and `scandir`; it never opens a file and never follows a link.

- **Received files**: regular files (`S_ISREG` on `lstat`) outside hidden and litter folders.
- **Litter**, skipped without a report (counted, with a few examples, in the landing report): what
  operating systems, browsers and office suites leave beside downloads: `.DS_Store`, `._*`,
  `__MACOSX/`, `desktop.ini`, `Thumbs.db`, `*:Zone.Identifier`, partial downloads (`.crdownload`,
  `.part`, `.partial`, `.download`, `.tmp`, Safari's `*.download/` folders), Office and LibreOffice
  lock files (`~$*`, `.~lock*`), any other hidden file (name starting with a dot), and the hidden
  folders of removable drives (`.Trashes`, `.Spotlight-V100`, `$RECYCLE.BIN`, ...).
- **Refused**, never opened and never archived, each with a reason for the log: symbolic links
  (file or folder, pointing inside the inbox or not: never followed), FIFOs, sockets and devices, and
  any other folder whose name starts with a dot (an account folder is `inbox/<handle>/`; `.` and `..`
  never appear in a listing).

A name that is not valid UTF-8 (bytes from another system's encoding) is read through a safe name:
the undecodable bytes become U+FFFD (`os.fsencode(name).decode("utf-8", "replace")`), so every path
reaching DuckDB, JSON and logs is valid text; the file itself is still opened by its real name.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

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
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:  # surrogate escapes: the file system gave bytes that are not UTF-8
        return os.fsencode(name).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class InboxFile:
    path: Path  # on disk, by its real name (which may not be UTF-8)
    relative: str  # inbox-relative POSIX path, always valid UTF-8
    size: int
    mtime_ns: int


@dataclass
class InboxWalk:
    files: list[InboxFile] = field(default_factory=list)  # sorted by relative path
    ignored: list[str] = field(default_factory=list)  # litter (a litter folder counts once)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    renamed: list[str] = field(default_factory=list)  # safe paths of files whose path was not UTF-8


REFUSED_LINK = "a symbolic link: links are never followed; copy the file itself into the inbox"
REFUSED_SPECIAL = "not a regular file (FIFO, socket or device): never opened"
REFUSED_HIDDEN_FOLDER = (
    "a hidden folder (its name starts with '.'): nothing inside is read; "
    "put exports in inbox/ or inbox/<handle>/ (a handle never starts with '.')"
)


def walk_inbox(inbox: Path) -> InboxWalk:
    """Every entry under `inbox`, classified; the inbox folder itself may be a link (e.g. to a synced folder)."""
    walk = InboxWalk()
    if inbox.is_dir():
        _walk(Path(inbox), "", walk)
    walk.files.sort(key=lambda f: f.relative)
    return walk


def _walk(folder: Path, prefix: str, walk: InboxWalk, renamed: bool = False) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:  # unreadable folder: say so, keep walking the rest
        walk.refused.append((prefix.rstrip("/") or ".", f"folder could not be listed ({error.strerror})"))
        return
    for entry in entries:
        name = safe_name(entry.name)
        relative = prefix + name
        try:
            mode = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # removed while we looked
            continue
        kind = mode.st_mode
        if stat.S_ISDIR(kind):
            if is_litter_folder(name):
                walk.ignored.append(relative + "/")
            elif name.startswith("."):
                walk.refused.append((relative + "/", REFUSED_HIDDEN_FOLDER))
            else:
                _walk(Path(entry.path), relative + "/", walk, renamed or name != entry.name)
        elif is_litter_file(name):
            walk.ignored.append(relative)
        elif stat.S_ISLNK(kind):
            walk.refused.append((relative, REFUSED_LINK))
        elif not stat.S_ISREG(kind):
            walk.refused.append((relative, REFUSED_SPECIAL))
        else:
            if renamed or name != entry.name:
                walk.renamed.append(relative)
            walk.files.append(InboxFile(Path(entry.path), relative, mode.st_size, mode.st_mtime_ns))


def describe_skipped(walk: InboxWalk, examples: int = 3) -> list[tuple[str, str]]:
    """Log lines (level, message) for what a walk skipped: one line for litter, one per refusal."""
    lines = []
    if walk.ignored:
        shown = ", ".join(walk.ignored[:examples]) + (", ..." if len(walk.ignored) > examples else "")
        lines.append(("info", f"ignored {len(walk.ignored)} OS/browser leftover(s) in the inbox (e.g. {shown})"))
    for relative in walk.renamed:
        lines.append(("info", f"{relative}: file name is not valid UTF-8; landed under this name (� = bad bytes)"))
    for relative, reason in walk.refused:
        lines.append(("warning", f"refused {relative}: {reason}"))
    return lines
