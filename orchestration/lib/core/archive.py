"""The immutable archive: every received file, stored once under its content hash.

`<data>/raw/archive/<sha[:2]>/<sha256><ext>` holds the bytes exactly as received (read-only), and
`manifest.jsonl` beside it gets one line per archived object. Received files in the inbox are only
ever read.

This module is the only writer of archive objects and manifest lines (Studio files here, API pulls
through `orchestration.lib.api.archive`): atomic, fsynced, read-only, never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
