"""Small helpers to write Studio files in TikTok's exact dialect and land them in a temporary data dir."""

import io
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.warehouse import connect
from orchestration.lib.studio.landing import land_inbox

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def studio_csv(header, rows) -> bytes:
    """UTF-8 with BOM, every field quoted (a quote inside doubled), LF, no newline after the last row."""
    lines = [",".join('"' + cell.replace('"', '""') + '"' for cell in line) for line in [header, *rows]]
    return ("\ufeff" + "\n".join(lines)).encode("utf-8")


def studio_zip(entries: dict[str, bytes], when: datetime) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, when.timetuple()[:6]), data)
    return buffer.getvalue()


def drop(paths: DataPaths, relative: str, data: bytes, mtime: datetime | None = None) -> Path:
    target = paths.inbox / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if mtime is not None:
        stamp = utc_timestamp(mtime)
        os.utime(target, (stamp, stamp))
    return target


def utc_timestamp(moment: datetime) -> float:
    """Seconds since the epoch of `moment`, a naive one read as UTC (as the landing reads modification times), not
    as the machine's local time: the tests' expected dates hold in any time zone."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def land(paths: DataPaths):
    """Land the inbox once; returns the LandingReport."""
    with connect(paths.warehouse) as con:
        return land_inbox(paths, con)


def query(paths: DataPaths, sql: str) -> list[tuple]:
    with connect(paths.warehouse, read_only=True) as con:
        return con.execute(sql).fetchall()


def new_paths(tmp_path: Path) -> DataPaths:
    return DataPaths(tmp_path / "data").ensure()
