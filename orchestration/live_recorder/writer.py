"""The LIVE event log on disk: JSON lines, one `seq` per line, and its session sidecar (docs/live.md).

While recording, the log is `<name>.part`: the inbox walk skips `.part` files as unfinished downloads,
so neither the sensor nor a run lands half a LIVE. Every line is flushed to the operating system as it
is written (a crash loses at most the line being written); at the end the file is fsynced, the sidecar
is written atomically beside it, and only then is the log renamed to its final name.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

LOG_FORMAT = "tiktok-live-log/1"
SESSION_FORMAT = "tiktok-live-session/1"
PART_SUFFIX = ".part"


def log_file_name(handle: str, started_at_ms: int, room_id: str, *, compress: bool) -> str:
    """`<handle>_<UTC start yyyymmddTHHMMSSZ>_<room_id>.jsonl[.gz]`."""
    started = datetime.fromtimestamp(started_at_ms / 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{handle}_{started}_{room_id}.jsonl" + (".gz" if compress else "")


def sidecar_path(log_path: Path) -> Path:
    """`x.jsonl` / `x.jsonl.gz` → `x.session.json`, in the same folder."""
    name = log_path.name.removesuffix(PART_SUFFIX).removesuffix(".gz").removesuffix(".jsonl")
    return log_path.with_name(name + ".session.json")


class LogWriter:
    """Appends records to `<final path>.part`, numbering them 1, 2, 3 … in the order written."""

    def __init__(self, final_path: Path, session_id: str) -> None:
        self.final_path = final_path
        self.part_path = final_path.with_name(final_path.name + PART_SUFFIX)
        self.session_id = session_id
        self.lines_written = 0
        final_path.parent.mkdir(parents=True, exist_ok=True)
        if final_path.exists():
            raise FileExistsError(f"{final_path}: a LIVE log of that name already exists; not overwriting it")
        self._raw: IO[bytes] = open(self.part_path, "xb")  # closed by close()
        # filename="" keeps the `.part` name out of the gzip header; mtime=0 keeps the bytes reproducible.
        self._gzip = (
            gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
            if final_path.name.endswith(".gz")
            else None
        )
        self.closed = False

    def write(self, fields: dict[str, Any], *, connection_id: str | None, received_at_ms: int) -> dict[str, Any]:
        """Write one record (`fields` from `handlers`) with its envelope; return the record as written."""
        if self.closed:
            raise ValueError(f"{self.part_path}: the log is closed; record {fields.get('type')!r} not written")
        envelope = {
            "format": LOG_FORMAT,
            "session_id": self.session_id,
            "room_id": fields["room_id"],
            "connection_id": connection_id,
            "seq": self.lines_written + 1,
            "type": fields["type"],
            "received_at_ms": received_at_ms,
        }
        record = {**envelope, **{k: v for k, v in fields.items() if k not in envelope}}
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        if self._gzip is not None:
            self._gzip.write(line)
            self._gzip.flush()  # a sync flush: what is written so far decompresses
        else:
            self._raw.write(line)
        self._raw.flush()
        self.lines_written += 1
        return record

    def close(self) -> None:
        """Finish the gzip stream, fsync and close the `.part` file (it keeps its name: see `publish`)."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._gzip is not None:
                self._gzip.close()  # writes the gzip trailer; leaves the underlying file open
            self._raw.flush()
            os.fsync(self._raw.fileno())
        finally:
            self._raw.close()

    def publish(self) -> Path:
        """Rename the closed `.part` file to its final name: from now on the inbox sees it."""
        if not self.closed:
            raise ValueError(f"{self.part_path}: close the log before publishing it")
        if self.final_path.exists():
            raise FileExistsError(f"{self.final_path} appeared while recording; the log stays at {self.part_path}")
        self.part_path.rename(self.final_path)
        return self.final_path


def write_sidecar(path: Path, content: dict[str, Any]) -> None:
    """Write the session sidecar atomically: a hidden temporary file in the same folder, fsynced, renamed."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(content, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
