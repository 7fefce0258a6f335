"""The immutable archive: every received file's bytes stored once, every receipt recorded.

`<data>/raw/archive/<sha[:2]>/<sha256><ext>` holds the bytes exactly as received (read-only), and
`manifest.jsonl` beside it gets one line per *receipt*: the same bytes received at two inbox paths
(two dated folders, two account folders) are stored once and recorded twice, each receipt with its
own account and export date. Received files in the inbox are only ever read: their bytes, names and
modification times never change.

This module and `core.archive_batch` (received files: hard links where possible, see there;
`core.archive_upkeep` sets aside a copy a kill cut short) are the only writers of archive objects and manifest
lines (API pulls go through `orchestration.lib.api.archive`): atomic, durable, read-only, never overwritten.
Manifest appends survive a crash: a torn last line (a `kill -9` mid-append) is repaired before the next append,
and rows whose key is already present are not written again, so a rerun never duplicates a receipt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import compress
from json.encoder import encode_basestring
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the run lock alone serialises writers
    fcntl = None

# Opening a received file never follows a link and never blocks on a FIFO (checked again after open).
SAFE_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
ARCHIVE_MODE_ENV = "TIKTOK_ARCHIVE_MODE"


def archive_mode_from_env() -> str:
    """`link` (a hard link when possible, else a copy) or `copy` (always copy), from `TIKTOK_ARCHIVE_MODE`; this is
    the only code that reads the variable. Unset: `link`, but `copy` for root, whom the read-only mode a link
    shares with the inbox file does not stop: root's `cp` over a linked inbox file rewrote the archived bytes
    under their hash, silently (a replay then published the new numbers)."""
    default = "copy" if hasattr(os, "geteuid") and os.geteuid() == 0 else "link"
    mode = os.environ.get(ARCHIVE_MODE_ENV, "").strip().lower() or default
    if mode not in ("link", "copy"):
        raise ValueError(f"{ARCHIVE_MODE_ENV}={mode!r}: use 'link' or 'copy' (unset: link, copy for root)")
    return mode


class ChangedWhileReading(OSError):
    """A received file's bytes changed between hashing and storing (still being written)."""


def document_id_for(sha256: str, receipt_path: str, member: str) -> str:
    """One export file of one receipt: a function of the bytes, the inbox path and the ZIP member only,
    so any drop order gives the same ids. `<sha256>:<12 hex of the inbox path's sha256>:<member>`."""
    path_tag = hashlib.sha256(receipt_path.encode("utf-8")).hexdigest()[:_PATH_TAG_HEX]
    return f"{sha256}:{path_tag}:{member}"


_PATH_TAG_HEX = 12
# the start of a receipt's document ids, `document_id_for(sha256, path, "")`: its colons (from 1, as SQL's), length
RECEIPT_PREFIX_COLONS = (64 + 1, 64 + 1 + _PATH_TAG_HEX + 1)
RECEIPT_PREFIX_CHARS = RECEIPT_PREFIX_COLONS[1]


def document_bytes_sql(document_id: str) -> str:
    """A document's bytes wherever received, `<sha256>:<member>`, in DuckDB SQL (as dbt's `document_bytes_of`)."""
    return f"left({document_id}, 64) || substr({document_id}, {RECEIPT_PREFIX_CHARS})"


def receipt_prefix_sql(sha256: str, inbox_path: str) -> str:
    """`document_id_for(sha256, inbox_path, "")` as a DuckDB SQL expression over two text columns, for whole
    columns of receipts (DuckDB's sha256() hashes a text's UTF-8 bytes, as the function does)."""
    return f"{sha256} || ':' || left(sha256({inbox_path}), {_PATH_TAG_HEX}) || ':'"


@dataclass(frozen=True)
class ManifestRow:
    sha256: str
    original_name: str
    inbox_path: str  # relative to the inbox: with sha256, the key of a receipt
    archive_path: str  # relative to the archive folder
    account_handle: str | None
    file_kind: str  # Studio section for ZIPs (overview, followers, ...) or the file kind of a bare file
    export_date: str | None  # ISO date
    export_date_source: str | None
    size_bytes: int
    source_mtime: str  # ISO timestamp of the received file
    received_at: str  # ISO timestamp (UTC) of landing


RECEIPT_KEY = ("sha256", "inbox_path")


def altered_objects(objects: Iterable[tuple[str, Path]]) -> list[str]:
    """The archived objects, of (sha256, path) pairs, missing or whose bytes no longer hash to the sha256 they were
    stored under (changed in place), each as "<path> (missing | changed)"."""
    altered = []
    for sha256, path in sorted(set(objects), key=lambda item: str(item[1])):
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except FileNotFoundError:
            altered.append(f"{path} (missing)")
            continue
        if digest != sha256:
            altered.append(f"{path} (changed)")
    return altered


def archive_relative_path(sha256: str, original_name: str) -> str:
    """`<sha[:2]>/<sha><ext>`: the extension as `Path(original_name).suffix`, lower case."""
    name = original_name.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""
    return f"{sha256[:2]}/{sha256}{suffix.lower()}"


def store_bytes(destination: Path, data: bytes) -> None:
    """Write `data` to `destination` atomically and read-only; never overwrite a different file. A destination that
    already holds exactly these bytes is left alone (a retried write); one that holds anything else raises
    FileExistsError."""
    if destination.exists():
        if destination.read_bytes() == data:
            return
        raise FileExistsError(f"{destination} already exists with other content; the archive never overwrites")
    _write_read_only(destination, lambda writer: writer.write(data))


def _write_read_only(destination: Path, write: Callable[[BinaryIO], object]) -> None:
    """The one way an archive object is written: temp file, fsync, chmod 0o444, atomic rename."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f"{destination.name}.{uuid.uuid4().hex[:8]}.incoming")
    try:
        with temporary.open("wb") as writer:
            write(writer)
            writer.flush()
            os.fsync(writer.fileno())
        os.chmod(temporary, 0o444)
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


# --- manifests -------------------------------------------------------------------------------------


def append_manifest(manifest: Path, rows: list[ManifestRow]) -> int:
    """Record receipts; one already in the manifest (same bytes, same inbox path) is not written again."""
    return append_receipts(manifest, {name: [getattr(row, name) for row in rows] for name in MANIFEST_FIELDS})


def append_receipts(manifest: Path, receipts: pa.Table | dict[str, list], ledger=None) -> int:
    """`append_manifest` for receipts given column by column (a list per `ManifestRow` field) or as their
    `receipt_table`: a column at a time, or row by row when a value is of another type (an odd line replayed).
    A `ledger` (`core.receipt_manifest`) may know which receipts the file holds without reading it: see `_append`;
    it is not asked about odd values."""
    table = receipts if isinstance(receipts, pa.Table) else receipt_table(receipts)
    if table is None:
        rows = [dict(zip(receipts, values, strict=True)) for values in zip(*receipts.values(), strict=True)]
        return append_manifest_lines(manifest, rows, key=RECEIPT_KEY)
    return append_receipt_table(manifest, table, ledger)


def append_manifest_lines(manifest: Path, rows: list[dict], key: tuple[str, ...] | None = None) -> int:
    """Append one JSON line per row (keys sorted) and fsync; returns the number of lines written.

    Under an exclusive lock (`.<manifest>.lock` beside it): a torn last line is first repaired (completed if it is
    whole JSON without its newline, else cut off: its row is being written again). With `key`, rows whose
    key is already in the manifest (or earlier in `rows`) are skipped, and lines repeating an earlier
    line's key (left by a crash before this version) are removed, so each key appears once.
    """
    keys = [_key(row, key) for row in rows] if key is not None else [None] * len(rows)
    return _append(manifest, key, keys, lambda keep: ["".join(_ENCODER.encode(r) + "\n" for r in _kept(rows, keep))])


def append_receipt_table(manifest: Path, table: pa.Table, ledger=None) -> int:
    """`append_manifest` for receipts given as a `receipt_table`: the same lines, made a column at a time."""
    keys = list(zip(table["sha256"].to_pylist(), table["inbox_path"].to_pylist(), strict=True))
    return _append(manifest, RECEIPT_KEY, keys, lambda keep: _receipt_lines(table, keep), ledger)


def _append(
    manifest: Path, key: tuple[str, ...] | None, keys: list, lines: Callable[[list[bool] | None], Iterable], ledger=None
) -> int:
    """Under the lock, after the torn-tail repair: write the texts `lines(keep)` makes of the rows (None: every row)
    whose `keys` are new (with a `key`), fsynced; how many rows were written. A `ledger` (receipt keys only) is asked
    first which `keys` the file holds, `ledger.recorded(status, keys)`, None meaning "read the file"; once written,
    it is told the file's status and, when the file was read, every key a reader finds in it now (each whole JSON
    line's: the file is then read exactly, `_deduplicate(exact=True)`): `ledger.appended(status, keys or None)`."""
    if not keys:
        return 0
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(manifest):
        with manifest.open("a+b") as handle:
            _repair_torn_tail(handle)
            present = None if ledger is None else ledger.recorded(os.fstat(handle.fileno()), keys)
        read = present is None and key is not None
        present = _deduplicate(manifest, key, keys, exact=ledger is not None) if read else present
        exact = set(present) if ledger is not None and read else None  # before `new_rows` adds the new keys
        keep = new_rows(keys, present) if key is not None else None
        written = len(keys) if keep is None else sum(keep)
        if written:
            with manifest.open("ab") as handle:
                for text in lines(keep):
                    handle.write(text.encode("utf-8") if isinstance(text, str) else text)
                handle.flush()
                os.fsync(handle.fileno())
        if ledger is not None:  # the keys not written are there already
            ledger.appended(os.stat(manifest), exact.union(keys) if read else None)
    return written


def new_rows(keys: list[tuple], present: set[tuple]) -> list[bool] | None:
    """Which rows to write: those whose key is neither present nor earlier in `keys`; None when all of them."""
    if present.isdisjoint(keys) and len(set(keys)) == len(keys):
        return None
    keep = []
    for row_key in keys:
        keep.append(row_key not in present)
        present.add(row_key)
    return keep


def _kept(rows: Iterable, keep: list[bool] | None) -> Iterable:
    return rows if keep is None else compress(rows, keep)


# The encoder `json.dumps(row, ensure_ascii=False, sort_keys=True)` makes for every call, made once.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
MANIFEST_FIELDS = tuple(ManifestRow.__dataclass_fields__)
_FIELD_TYPES = {name: pa.int64() if name == "size_bytes" else pa.string() for name in MANIFEST_FIELDS}


def receipt_table(columns: dict[str, list]) -> pa.Table | None:
    """Receipts given column by column (a list per `ManifestRow` field) as typed columns: every value a str or
    None, size_bytes an int or None; None when a value is of another type (an odd manifest line replayed)."""
    allowed = {pa.string(): {str, type(None)}, pa.int64(): {int, type(None)}}
    if any(not set(map(type, values)) <= allowed[_FIELD_TYPES[name]] for name, values in columns.items()):
        return None
    try:
        return pa.table({name: pa.array(values, _FIELD_TYPES[name]) for name, values in columns.items()})
    except OverflowError:  # an int beyond 64 bits
        return None


_LINES_PER_WRITE = 8192  # a few MB at a time: whole-column joins of 100,000 lines were 5x slower (reallocations)


def _receipt_lines(table: pa.Table, keep: list[bool] | None) -> Iterator[memoryview | str]:
    """The lines `json.dumps(row, ensure_ascii=False, sort_keys=True) + "\\n"` gives for each row, made a column at
    a time: that call writes `{`, then per key in sorted order `encode_basestring(key)`, `: ` and the value (a str
    by `encode_basestring`, None as `null`, an int by `int.__repr__`) joined by `, `, then `}`."""
    table = (table if keep is None else table.filter(pa.array(keep, pa.bool_()))).combine_chunks()
    for start in range(0, table.num_rows, _LINES_PER_WRITE):
        rows = table.slice(start, _LINES_PER_WRITE)
        keyed = [_keyed(name, rows[name]) for name in sorted(rows.column_names)]
        lines = _join("{", pc.binary_join_element_wise(*keyed, _text(", ")), "}\n").combine_chunks()
        # a text column without nulls: its data buffer between its first and last offsets holds every line
        offsets = memoryview(lines.buffers()[1]).cast("i")
        text = memoryview(lines.buffers()[2])[offsets[lines.offset] : offsets[lines.offset + len(lines)]]
        # A byte below 0x20 is a control character (UTF-8 has no such byte inside a longer sequence): one per line,
        # its newline, unless a value holds one, which encode_basestring escapes (\\n, \\u0001...): row by row then.
        if np.count_nonzero(np.frombuffer(text, np.uint8) < 0x20) == len(lines):
            yield text
        else:
            yield "".join(_ENCODER.encode(row) + "\n" for row in rows.to_pylist())


def _keyed(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """`"<name>": <value>` for each value of a column: the value as `json.dumps` writes it."""
    key = f"{encode_basestring(name)}: "
    if pa.types.is_integer(column.type):
        keyed = _join(key, pc.cast(column, pa.string()))  # decimal digits, as int.__repr__
    else:  # a text: quoted, its backslashes and quotes escaped (control characters: see _receipt_lines)
        keyed = _join(f'{key}"', pc.replace_substring(pc.replace_substring(column, "\\", "\\\\"), '"', '\\"'), '"')
    return pc.fill_null(keyed, f"{key}null")


def _join(*parts: str | pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(*(_text(p) if isinstance(p, str) else p for p in parts), _text(""))


def _text(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.string())


@contextmanager
def _locked(manifest: Path) -> Iterator[None]:
    """An exclusive lock beside the manifest (not on it: a rewrite replaces the manifest's inode)."""
    with manifest.with_name(f".{manifest.name}.lock").open("a") as lock:
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield


def _deduplicate(manifest: Path, key: tuple[str, ...], incoming: list[tuple], exact: bool = False) -> set[tuple]:
    """The keys in the manifest; if a key appears twice, the file is rewritten (atomically) with its
    first line only. Lines that are not JSON are kept as they are: they are skipped by every reader. Unless `exact`,
    the receipt keys may come from `_receipt_keys_when_unique`, which may also take a damaged line's."""
    data = manifest.read_bytes()
    if key == RECEIPT_KEY and not exact:
        found = _receipt_keys_when_unique(data)
        if found is not None and found.isdisjoint(incoming):
            return found
    present, kept, repeated = set(), [], False
    lines = data.split(b"\n")  # as every reader splits them (`_parse_lines`): a bare \r ends no line
    if lines[-1] == b"":  # the repaired file ends with a newline
        lines.pop()
    for line in lines:
        row = _row_of_line(line)
        if row is not None and all(k in row for k in key):
            row_key = _key(row, key)
            if row_key in present:
                repeated = True
                continue
            present.add(row_key)
        kept.append(line)
    if repeated:
        temporary = manifest.with_name(f"{manifest.name}.{uuid.uuid4().hex[:8]}.incoming")
        with temporary.open("wb") as handle:
            handle.write(b"".join(line + b"\n" for line in kept))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, manifest)
    return present


# A receipt line as `append_manifest` writes it: keys sorted, so inbox_path comes before sha256. In valid
# JSON these byte sequences can only be keys (a quote inside a value is escaped).
_PATH_KEY, _SHA_KEY = b'"inbox_path": "', b'"sha256": "'
_SHA = re.compile(rb'[0-9a-f]{64}"')


def _receipt_keys_when_unique(data: bytes) -> set[tuple] | None:
    """The receipt keys of a manifest found by searching each line for them, without parsing it as JSON
    (the cost of a run would grow with the history otherwise); None when a key repeats.

    A whole JSON line written by `append_manifest` yields its exact key; a line in another form (an escaped
    path, other spacing) is parsed; only a damaged line could yield a key the parser would not see. So when
    no key repeats and no incoming row's key is found, the exact reading (`_deduplicate`) would find no
    repeat and no incoming key either: the caller takes the exact reading otherwise."""
    found: set[tuple] = set()
    for line in data.split(b"\n"):
        line_key = _receipt_key_of_line(line)
        if line_key is None and line.strip():
            rows, _ = _parse_lines(line)
            if rows and all(k in rows[0] for k in RECEIPT_KEY):
                line_key = _key(rows[0], RECEIPT_KEY)
        if line_key is not None:
            if line_key in found:
                return None
            found.add(line_key)
    return found


def _receipt_key_of_line(line: bytes) -> tuple[str, str] | None:
    path_at = line.find(_PATH_KEY)
    if path_at < 0:
        return None
    path_at += len(_PATH_KEY)
    path_end = line.find(b'"', path_at)
    sha_at = line.find(_SHA_KEY, path_end) + len(_SHA_KEY)
    path = line[path_at:path_end]
    if path_end < 0 or sha_at < len(_SHA_KEY) or b"\\" in path or not _SHA.match(line, sha_at):
        return None
    try:
        return line[sha_at : sha_at + 64].decode("ascii"), path.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_manifest(manifest: Path, key: tuple[str, ...] = RECEIPT_KEY) -> tuple[list[dict], int]:
    """The manifest's rows, first occurrence per key, in file order; and how many lines were unreadable
    (torn or garbled lines, e.g. left by an older version after a crash, are skipped)."""
    if not manifest.exists():
        return [], 0
    rows, bad = _parse_lines(manifest.read_bytes())
    seen, unique = set(), []
    for row in rows:
        if all(k in row for k in key) and _key(row, key) not in seen:
            seen.add(_key(row, key))
            unique.append(row)
    return unique, bad


def _key(row: dict, key: tuple[str, ...]) -> tuple:
    return tuple(row.get(k) for k in key)


def _parse_lines(data: bytes) -> tuple[list[dict], int]:
    rows, bad = [], 0
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        row = _row_of_line(line)
        if row is None:
            bad += 1
        else:
            rows.append(row)
    return rows, bad


def _row_of_line(line: bytes) -> dict | None:
    """The row of one manifest line, or None for a blank, torn or garbled line (or JSON that is not an object)."""
    try:
        row = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return row if isinstance(row, dict) else None


def _repair_torn_tail(handle: BinaryIO) -> None:
    """Make the file end with a newline: complete a whole last line, or cut a partial one off."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return
    handle.seek(end - 1)
    if handle.read(1) == b"\n":
        return
    # Find the start of the last line (tails are short: read backwards in chunks).
    start, position = 0, end
    while position > 0:
        position = max(0, position - 65536)
        handle.seek(position)
        newline = handle.read(end - position).rfind(b"\n")
        if newline >= 0:
            start = position + newline + 1
            break
    handle.seek(start)
    tail = handle.read()
    try:
        whole = isinstance(json.loads(tail), dict)
    except (UnicodeDecodeError, json.JSONDecodeError):
        whole = False
    if whole:
        handle.seek(0, os.SEEK_END)
        handle.write(b"\n")
    else:
        handle.truncate(start)
    handle.flush()
    os.fsync(handle.fileno())
