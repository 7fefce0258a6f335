"""Received containers opened safely, in memory: a ZIP is never extracted to disk, and is refused when
an entry would escape its folder, is password-protected or damaged, or the archive would expand to an
absurd size. An XLSX is a ZIP too: its directory passes the same checks before any XML parser reads it.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

# Real Studio ZIPs are a few KB to a few MB; these limits leave two orders of magnitude of room.
MAX_ZIP_ENTRIES = 64
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
_ENCRYPTED = 0x1  # general-purpose flag bit 0: the entry needs a password

# What zipfile and zlib raise for a truncated, damaged or unsupported archive.
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, NotImplementedError)


class RefusedArchive(ValueError):
    """A ZIP that is corrupt, password-protected, escapes its folder or expands past the limits."""


@dataclass(frozen=True)
class ZipMember:
    name: str
    data: bytes
    modified: datetime | None  # None: the entry records no usable date (see `entry_timestamp`)


def read_zip_members(path: Path) -> list[ZipMember]:
    """All file entries of a ZIP, after the safety checks; raises RefusedArchive."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = []
            for info in checked_entries(archive):
                # Read at most the limit + 1: zipfile stops at the declared size, this is a second fence.
                try:
                    with archive.open(info) as stream:
                        data = stream.read(MAX_ENTRY_BYTES + 1)
                except _UNREADABLE as error:
                    raise RefusedArchive(f"entry {info.filename!r} is damaged ({_describe(error)})") from error
                if len(data) > MAX_ENTRY_BYTES:
                    raise RefusedArchive(f"entry {info.filename!r} expands past {MAX_ENTRY_BYTES} bytes")
                members.append(ZipMember(info.filename, data, entry_timestamp(info.date_time)))
            return members
    except _UNREADABLE as error:
        raise RefusedArchive(f"not a readable ZIP file ({_describe(error)})") from error


def check_xlsx_container(data: bytes) -> None:
    """Refuse an XLSX whose ZIP directory breaks the ZIP limits, before openpyxl inflates anything.

    Checking declared sizes is enough: zipfile never inflates an entry past its declared size.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            checked_entries(archive)
    except _UNREADABLE as error:
        raise RefusedArchive(f"not a readable XLSX (ZIP) container ({_describe(error)})") from error


def checked_entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The file entries of an open ZIP whose directory passes the safety checks; raises RefusedArchive."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > MAX_ZIP_ENTRIES:
        raise RefusedArchive(f"{len(infos)} entries, more than the {MAX_ZIP_ENTRIES} allowed")
    total = 0
    for info in infos:
        member = PurePosixPath(info.filename.replace("\\", "/"))
        if member.is_absolute() or ".." in member.parts or ":" in info.filename:
            raise RefusedArchive(f"entry {info.filename!r} would escape its folder")
        if info.flag_bits & _ENCRYPTED:
            raise RefusedArchive(
                f"entry {info.filename!r} is password-protected: download the export again without a password"
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_ENTRY_BYTES:
            raise RefusedArchive(f"entry {info.filename!r} expands past {MAX_ENTRY_BYTES} bytes")
        if total > MAX_TOTAL_BYTES:
            raise RefusedArchive(f"the entries expand past {MAX_TOTAL_BYTES} bytes in all")
        if ratio > MAX_COMPRESSION_RATIO and info.file_size > 1024 * 1024:
            raise RefusedArchive(f"entry {info.filename!r} has a compression ratio of {ratio:.0f}")
    return infos


# The DOS epoch: tools write it when they have no date to record (or clamp older ones to it).
_ZIP_NO_DATE = datetime(1980, 1, 1).date()


def entry_timestamp(date_time: tuple[int, ...]) -> datetime | None:
    """A ZIP entry's timestamp, or None when it records none: all-zero or impossible fields, or 1980-01-01."""
    try:
        moment = datetime(*date_time)
    except (ValueError, TypeError):  # month 0, day 0, hour 25, ...
        return None
    return None if moment.date() == _ZIP_NO_DATE else moment


def _describe(error: BaseException) -> str:
    kind = type(error)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    return f"{name}: {error}"
