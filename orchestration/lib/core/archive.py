"""The immutable archive: every received file, stored once under its content hash.

`<data>/raw/archive/<sha[:2]>/<sha256><ext>` holds the bytes exactly as received (read-only), and
`manifest.jsonl` beside it gets one line per archived object. Received files in the inbox are only
ever read. ZIPs are inspected in memory, never extracted to disk, and refused when an entry would
escape its folder or the archive would expand to an absurd size.

This module is the only writer of archive objects and manifest lines (Studio files here, API pulls
through `orchestration.lib.api.archive`): atomic, fsynced, read-only, never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

# Real Studio ZIPs are a few KB to a few MB; these limits leave two orders of magnitude of room.
MAX_ZIP_ENTRIES = 64
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# Partial downloads and OS litter are not received files.
IGNORED_SUFFIXES = (".crdownload", ".part", ".partial", ".tmp", ".download")


class RefusedArchive(ValueError):
    """A ZIP that is corrupt, escapes its folder or expands past the limits."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_received_file(path: Path) -> bool:
    name = path.name
    return not (name.startswith((".", "~$")) or name.lower().endswith(IGNORED_SUFFIXES))


@dataclass(frozen=True)
class ZipMember:
    name: str
    data: bytes
    modified: datetime


def read_zip_members(path: Path) -> list[ZipMember]:
    """All file entries of a ZIP, after the safety checks; raises RefusedArchive."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            if len(infos) > MAX_ZIP_ENTRIES:
                raise RefusedArchive(f"{len(infos)} entries, more than the {MAX_ZIP_ENTRIES} allowed")
            total = 0
            for info in infos:
                member = PurePosixPath(info.filename.replace("\\", "/"))
                if member.is_absolute() or ".." in member.parts or ":" in info.filename:
                    raise RefusedArchive(f"entry {info.filename!r} would escape its folder")
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES:
                    raise RefusedArchive(f"entry {info.filename!r} expands past {MAX_ENTRY_BYTES} bytes")
                if ratio > MAX_COMPRESSION_RATIO and info.file_size > 1024 * 1024:
                    raise RefusedArchive(f"entry {info.filename!r} has a compression ratio of {ratio:.0f}")
            members = []
            for info in infos:
                # Read at most the declared size + 1 so a lying header cannot expand past the limit.
                with archive.open(info) as stream:
                    data = stream.read(MAX_ENTRY_BYTES + 1)
                if len(data) > MAX_ENTRY_BYTES:
                    raise RefusedArchive(f"entry {info.filename!r} expands past {MAX_ENTRY_BYTES} bytes")
                members.append(ZipMember(info.filename, data, datetime(*info.date_time)))
            return members
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as error:
        raise RefusedArchive(f"not a readable ZIP file ({error})") from error


@dataclass(frozen=True)
class ManifestRow:
    sha256: str
    original_name: str
    inbox_path: str  # relative to the inbox, as first received
    archive_path: str  # relative to the archive folder
    account_handle: str | None
    file_kind: str  # Studio section for ZIPs (overview, followers, ...) or the file kind of a bare file
    export_date: str | None  # ISO date
    export_date_source: str | None
    size_bytes: int
    source_mtime: str  # ISO timestamp of the received file
    received_at: str  # ISO timestamp (UTC) of landing


def archive_path_for(archive_dir: Path, sha256: str, original_name: str) -> Path:
    suffix = Path(original_name).suffix.lower()
    return archive_dir / sha256[:2] / f"{sha256}{suffix}"


def store(source: Path, destination: Path) -> None:
    """Copy received bytes into the archive atomically and make the copy read-only (once per hash)."""
    if destination.exists():
        return
    with source.open("rb") as reader:
        _write_read_only(destination, lambda writer: shutil.copyfileobj(reader, writer, 1 << 20))


def store_bytes(destination: Path, data: bytes) -> None:
    """Write `data` to `destination` atomically and read-only; never overwrite a different file.

    A destination that already holds exactly these bytes is left alone (a retried write); one that
    holds anything else raises FileExistsError.
    """
    if destination.exists():
        if destination.read_bytes() == data:
            return
        raise FileExistsError(f"{destination} already exists with other content; the archive never overwrites")
    _write_read_only(destination, lambda writer: writer.write(data))


def _write_read_only(destination: Path, write: Callable[[BinaryIO], object]) -> None:
    """The one way an archive object is written: temp file, fsync, chmod 0o444, atomic rename."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".incoming")
    with temporary.open("wb") as writer:
        write(writer)
        writer.flush()
        os.fsync(writer.fileno())
    os.chmod(temporary, 0o444)
    os.replace(temporary, destination)


def append_manifest(manifest: Path, rows: list[ManifestRow]) -> None:
    append_manifest_lines(manifest, [asdict(row) for row in rows])


def append_manifest_lines(manifest: Path, rows: list[dict]) -> None:
    """Append one JSON line per row (keys sorted) to a manifest and fsync it."""
    if not rows:
        return
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with manifest.open("a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
