"""Received containers opened safely, in memory: a ZIP is never extracted to disk, and is refused when
an entry would escape its folder or the archive would expand to an absurd size.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

# Real Studio ZIPs are a few KB to a few MB; these limits leave two orders of magnitude of room.
MAX_ZIP_ENTRIES = 64
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


class RefusedArchive(ValueError):
    """A ZIP that is corrupt, escapes its folder or expands past the limits."""


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
