"""Received files into the immutable archive (`core.archive`), at the cost of a hash and a link each.

An `ArchiveBatch` stores each new received file:
- **Linked, not copied**, when the inbox and the archive share a file system: the archive object is a
  hard link to the received file, which was opened once (never through a link, regular files only),
  hashed through that descriptor, and linked only if the name still leads to the same inode with the
  same size and mtime (else it is being written: taken on the next run). A link shares the inode, so
  the archive's read-only mode is the inode's: the write permission bits of the received file are
  removed (its read bits are kept, never widened). That is deliberate: it keeps an editor or a `cp`
  (not root's) from rewriting the inbox file in place, which would change archived bytes under their
  hash. Bytes, name and mtime of the received file are untouched; it may still be deleted, renamed, or
  replaced by a new file at its name (the archive keeps the old inode).
- **Copied** (the bytes read to hash it written out; a file larger than one read copied again from the
  descriptor, hashed again) when linking fails (another file system, a file owned by another user, ...),
  for a file changed less than `inbox.SETTLE_NS` ago (it may still be being written: a copy cannot be
  changed later, a link could), or in copy mode: `TIKTOK_ARCHIVE_MODE=copy`, and
  by default when the pipeline runs as root, whom the read-only mode does not stop (`archive_mode_from_env`).
- **Durable before a receipt names it**: a last `syncfs` in `commit()` makes bytes and names durable before any
  manifest line can name them (also those of the objects found archived, which a killed run may have left; a
  batch left half-way syncs its names on exit). A linked object gets its final name once its bytes are durable: a
  received file unchanged (ctime) since before the batch's first `syncfs` of the archive's file system (taken on
  the first link, or started ahead by `flush_ahead`) had its bytes flushed by it, and is linked under its final
  name at once; a file changed since gets a temporary name, and its final name in `commit()` after a `syncfs`.
  A copy is written under its final name at once (a rename a file cost 13-15 µs in a quiet ext4 folder, ~1.5 s
  of a 300 x 90 backfill as root, more under load), after the marker `NOT_YET_DURABLE` was made durable; the
  last `syncfs` removes it. A landing that finds the marker (a kill or a crash before that `syncfs`) first hashes
  every object no receipt names (receipts are written after that `syncfs`), and those changed since the marker,
  and sets aside the ones cut short (`archive_upkeep.verify_not_yet_durable`), so an object under its hash holds
  those bytes whenever a landing reads the archive (one `syncfs` per batch, not an fsync per file). Where
  `syncfs` is missing, each copy and each touched folder is fsynced, copies are named in `commit()` like linked
  files, and every object is renamed. So while a landing runs, and after one stopped until the next landing,
  an object no receipt names may be incomplete: a backup should run between landings, and check afterwards that
  the marker did not appear meanwhile (else take those objects again); once the marker is gone, every object
  holds the bytes of its name.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import logging
import os
import stat
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.core.archive import SAFE_OPEN, ChangedWhileReading, archive_relative_path

_CHUNK = 1 << 20
_LOG = logging.getLogger(__name__)
_SETTLE_NS = 2_000_000_000  # as `core.inbox.SETTLE_NS`: a file changed more recently may still be written
# File times come from the kernel's coarse clock (a tick behind the fine one): a file whose ctime is within this
# of a `syncfs`'s start counts as changed after it.
_CLOCK_SLACK_NS = 1_000_000_000
_PROBES_BEFORE_LISTING = 8  # objects asked about in one archive folder by a stat each before it is listed
# In the archive folder while copies named at once may not be durable yet: a run that finds it (the one before was
# killed, or the machine stopped) checks the objects no receipt names before anything else.
NOT_YET_DURABLE = ".copies-not-yet-durable"


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    destination: str  # its name once the batch is committed
    archive_path: str  # the same, relative to the archive folder
    how: str  # linked | copied | present (these bytes were archived already)


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


class ArchiveBatch:
    """Received files stored into the archive (see the module docstring); use as a context manager and
    `commit()` before reading any `Stored.destination`: what was not committed is removed on exit."""

    def __init__(self, archive_dir: Path, *, link: bool = True, now_ns: int | None = None):
        self.archive_dir = archive_dir
        self.archive_text = os.fspath(archive_dir)
        self.link = link
        self.settled_before_ns = (time.time_ns() if now_ns is None else now_ns) - _SETTLE_NS
        self.fsync_each = _syncfs() is None
        self.pending: dict[str, str] = {}  # destination → temporary name (text: a Path per file cost ~10 µs)
        self.named: list[str] = []  # under their final names, not yet committed: links (durable bytes), copies
        self._flush: threading.Thread | None = None  # `flush_ahead`'s syncfs, until the first link waits for it
        self._flushed_before_ns: int | None = None  # its `durable_before_ns`, once it succeeded
        self.names_unsynced = False  # names given by a commit that did not make them durable
        self.names_to_sync: set[str] = set()  # their folders, where `syncfs` is missing
        self.durable_before_ns: int | None = None  # files unchanged since then were flushed (`_bytes_durable`)
        # Archive folder (`<sha[:2]>`) → the names in it, listed once per batch once it has been asked about
        # `_PROBES_BEFORE_LISTING` times: a backfill lists each folder instead of a stat per received file (16 µs
        # each), a daily drop (a few files per folder) stats its files instead of listing every folder of the
        # history (0.18 s at 300 x 90, growing with it). Only this run adds objects meanwhile (the run lock); were
        # one added behind its back, the commit would replace it by the same bytes under the same hash.
        self.folders: dict[str, set[str]] = {}
        self.probes: dict[str, int] = {}  # folder → objects asked about by a stat (the folder exists)
        self.counts = {"linked": 0, "copied": 0, "present": 0}
        self.token, self.temporaries = uuid.uuid4().hex[:8], 0  # temporary names: <object>.<token><n>.incoming
        self.marked = False  # `NOT_YET_DURABLE` made by this batch, until its copies are durable
        self.marker_left = False  # found there, left by a stopped landing: not this batch's to remove

    def __enter__(self) -> ArchiveBatch:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if self._flush is not None:  # nothing was linked: the flush is not waited for by a link, but by its caller
            self._flush.join()
        for name in [*self.pending.values(), *self.named]:
            _unlink(name)
        self.pending.clear()
        self.named.clear()
        # The parts committed without durable names (a landing stopped half-way): durable now, as the next run
        # finds them archived and may name them in the manifest. An error doing it yields to the one on its way.
        try:
            self._sync_names()
        except OSError:
            if exc_type is None:
                raise

    def receive(self, source: str | Path, original_name: str) -> Stored:
        """Hash a received file and store its bytes (once per object); raises OSError (a link, a special
        file, a vanished file) or ChangedWhileReading, and then keeps nothing. `source` may be plain text:
        no `Path` is made per file here (10 µs each, a second for an agency's backfill)."""
        source_name = os.path.basename(source)
        descriptor = os.open(source, SAFE_OPEN)
        try:
            before = os.fstat(descriptor)
            if not stat.S_ISREG(before.st_mode):
                raise OSError(f"{source_name}: not a regular file")
            digest, size, want = hashlib.sha256(), 0, min(_CHUNK, before.st_size + 1)
            hashed = b""  # the bytes hashed, while they fit in one read: a copy writes them, not a second read
            while chunk := os.read(descriptor, want):
                digest.update(chunk)
                hashed = chunk if not size else None
                size += len(chunk)
            after = os.fstat(descriptor)
            if _identity(before) != _identity(after) or size != after.st_size:
                raise ChangedWhileReading(f"{source_name} changed while it was read; it is taken on the next run")
            sha = digest.hexdigest()
            relative = archive_relative_path(sha, original_name)
            destination = os.path.join(self.archive_text, relative)
            folder, name = relative.split("/")
            if destination in self.pending or self._archived(folder, name, destination):
                how = "present"
                self.names_unsynced = True  # perhaps left by a run killed before its names were durable
                if self.fsync_each:
                    self.names_to_sync.add(os.path.dirname(destination))
            elif self._bytes_durable(after) and self._link(source, source_name, destination, descriptor, after):
                how = "linked"  # named at once: no temporary, no rename
                self._listed_too(folder, name)
                self.named.append(destination)
            else:
                self.temporaries += 1  # one random token per batch, not a uuid4 per file (15 µs each)
                temporary = f"{destination}.{self.token}{self.temporaries:x}.incoming"
                how = "linked" if self._link(source, source_name, temporary, descriptor, after) else "copied"
                if how == "linked":
                    self.pending[destination] = temporary
                else:
                    self._store_copy(descriptor, destination, temporary, sha, source_name, hashed)
        finally:
            os.close(descriptor)
        self.counts[how] += 1
        return Stored(sha, size, destination, relative, how)

    def flush_ahead(self) -> None:
        """Start the `syncfs` the first link waits for now, on a thread: a drop copied into the inbox just before
        the run is written out while the caller lists the inbox, not after (each ~1 s for 106,528 files)."""
        if not self.link or self.fsync_each or self._flush is not None or self.durable_before_ns is not None:
            return
        started = time.time_ns()

        def flush() -> None:
            try:
                _sync_filesystem(self.archive_dir)
            except OSError:  # the first link runs it again, and its error refuses the file
                return
            self._flushed_before_ns = started - _CLOCK_SLACK_NS

        self._flush = threading.Thread(target=flush, name="archive-flush", daemon=True)
        self._flush.start()

    def _bytes_durable(self, hashed: os.stat_result) -> bool:
        """Whether the received file's bytes are on disk already: it has not changed (ctime) since a `syncfs` of
        the archive's file system (the inbox's: a link needs both on one) began, which the first call runs (or
        waits for: `flush_ahead`)."""
        if not self.link or self.fsync_each:
            return False
        if self.durable_before_ns is None and self._flush is not None:
            self._flush.join()
            self.durable_before_ns, self._flush = self._flushed_before_ns, None
        if self.durable_before_ns is None:
            started = time.time_ns()
            _sync_filesystem(self.archive_dir)
            self.durable_before_ns = started - _CLOCK_SLACK_NS
        return max(hashed.st_mtime_ns, hashed.st_ctime_ns) < self.durable_before_ns

    def _archived(self, folder: str, name: str, destination: str) -> bool:
        """Whether archive folder `folder` holds `name` (the folder is created when missing)."""
        asked = self.probes.get(folder, 0)
        if folder in self.folders or asked >= _PROBES_BEFORE_LISTING:  # asked often: the listing pays off
            return name in self._names_in(folder)
        if not asked:
            os.makedirs(os.path.join(self.archive_text, folder), exist_ok=True)
        self.probes[folder] = asked + 1
        return os.path.lexists(destination)

    def _listed_too(self, folder: str, name: str) -> None:
        """A name given in the archive folder: in its listing too, if it was listed."""
        names = self.folders.get(folder)
        if names is not None:
            names.add(name)

    def _names_in(self, folder: str) -> set[str]:
        """The names in archive folder `folder` (created when missing), listed once per batch."""
        names = self.folders.get(folder)
        if names is None:
            path = os.path.join(self.archive_text, folder)
            try:
                names = set(os.listdir(path))
            except FileNotFoundError:
                os.makedirs(path, exist_ok=True)
                names = set()
            self.folders[folder] = names
        return names

    def _link(
        self, source: str | Path, source_name: str, temporary: str, descriptor: int, hashed: os.stat_result
    ) -> bool:
        """Hard-link the hashed inode under `temporary`; False when it must be copied instead."""
        if not self.link or max(hashed.st_mtime_ns, hashed.st_ctime_ns) > self.settled_before_ns:
            return False
        if not hasattr(os, "fchmod"):  # (Windows before Python 3.13) a link could not be made read-only
            return False
        try:
            os.link(source, temporary, follow_symlinks=False)
        except (OSError, NotImplementedError) as error:
            if isinstance(error, NotImplementedError) or error.errno == errno.EXDEV:
                self.link = False  # another file system: every file of this batch is copied
            return False
        try:
            if _identity(os.lstat(temporary)) != _identity(hashed):  # the name now leads elsewhere
                raise ChangedWhileReading(f"{source_name} changed while it was read; it is taken on the next run")
            os.fchmod(descriptor, stat.S_IMODE(hashed.st_mode) & ~0o222)  # the shared inode becomes read-only
        except ChangedWhileReading:
            _unlink(temporary)
            raise
        except OSError:  # not our file to chmod: copy it
            _unlink(temporary)
            return False
        return True

    def _store_copy(
        self, descriptor: int, destination: str, temporary: str, sha256: str, name: str, hashed: bytes | None
    ) -> None:
        """A copy under its final name at once, made durable by the names' `syncfs` (the marker `NOT_YET_DURABLE`
        stands until then); where `syncfs` is missing, or the name was taken behind this batch's back, under
        `temporary`, renamed by the commit."""
        if not self.fsync_each:
            self._mark_not_yet_durable()
            try:
                self._copy(descriptor, destination, sha256, name, hashed)
            except FileExistsError:  # not ours: the commit replaces it by these bytes under the same hash
                pass
            else:
                folder, object_name = destination[len(self.archive_text) + 1 :].split("/")
                self._listed_too(folder, object_name)
                self.named.append(destination)
                return
        self._copy(descriptor, temporary, sha256, name, hashed)
        self.pending[destination] = temporary

    def _mark_not_yet_durable(self) -> None:
        """Before the batch's first copy under its final name: the marker, durably (`verify_not_yet_durable`). One
        already there was left by a stopped landing and not checked yet (the landing checks it before its batch):
        it stays, never removed by this batch, for the next landing's check."""
        if self.marked or self.marker_left:
            return
        try:
            marker = os.open(
                os.path.join(self.archive_text, NOT_YET_DURABLE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644
            )
        except FileExistsError:
            self.marker_left = True
            return
        try:
            os.fsync(marker)
        finally:
            os.close(marker)
        _fsync_folder(self.archive_dir)
        self.marked = True

    def _copy(self, descriptor: int, temporary: str, sha256: str, name: str, hashed: bytes | None = None) -> None:
        """Write the bytes `hashed` (a file read in one go), else copy from the hashed descriptor, hashing again:
        the copy must have hash `sha256`. (Writing what was hashed saves a read and a hash a file: 44-48 -> 39-41 µs
        a file received, 20,000 small files on tmpfs, alternating.)"""
        digest = None if hashed is not None else hashlib.sha256()
        # read-only from its creation (the descriptor still writes): a copy a kill cut short is never writable
        writer = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            if digest is None:
                _write_all(writer, hashed)
            else:
                os.lseek(descriptor, 0, os.SEEK_SET)
                while chunk := os.read(descriptor, _CHUNK):
                    digest.update(chunk)
                    _write_all(writer, chunk)
            if self.fsync_each:
                os.fsync(writer)
        except BaseException:
            os.close(writer)
            _unlink(temporary)
            raise
        os.close(writer)
        if digest is not None and digest.hexdigest() != sha256:
            _unlink(temporary)
            raise ChangedWhileReading(f"{name} changed while it was read; it is taken on the next run")
        os.chmod(temporary, 0o444)  # whatever the umask took away

    def commit(self, *, names_durable: bool = True) -> None:
        """Give every stored object its name, durably (a link's bytes before its name; a copy's with the names,
        under the marker). With `names_durable=False` the names are given but made durable only by the next commit
        that makes them so: a landing hands each part of a drop to its readers at once and needs the names durable
        only before a manifest line names them (a `syncfs` per part cost ~40 ms on ext4, 0.8 s of a 300 x 90
        backfill)."""
        if self.pending and not self.fsync_each:
            _sync_filesystem(self.archive_dir)
        for destination, temporary in sorted(self.pending.items()):  # in name order
            os.replace(temporary, destination)
            folder, name = destination[len(self.archive_text) + 1 :].split("/")
            self._listed_too(folder, name)
        if self.fsync_each:
            self.names_to_sync |= {os.path.dirname(d) for d in self.pending}
        self.names_unsynced = self.names_unsynced or bool(self.pending or self.named)
        self.pending.clear()
        self.named.clear()
        if names_durable:
            self._sync_names()

    def _sync_names(self) -> None:
        """Make the names given so far durable, and those of the objects found archived (a run killed before it
        could sync its names left them, and this batch's manifest lines may name them)."""
        if not self.names_unsynced and not self.marked:  # (marked, nothing named: every copy failed)
            return
        if self.fsync_each:
            for folder in sorted(self.names_to_sync | {self.archive_text}):
                _fsync_folder(folder)
        else:
            _sync_filesystem(self.archive_dir)
            if self.marked:  # every copy this batch named is durable now
                _unlink(os.path.join(self.archive_text, NOT_YET_DURABLE))
                self.marked = False
        self.names_to_sync, self.names_unsynced = set(), False


_SYNCFS: list = []


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _syncfs():
    """libc's syncfs (Linux): flushes one file system and waits for it; None elsewhere."""
    if not _SYNCFS:
        function = None
        if sys.platform.startswith("linux"):
            try:
                function = ctypes.CDLL(None, use_errno=True).syncfs
            except (OSError, AttributeError):
                function = None
        _SYNCFS.append(function)
    return _SYNCFS[0]


def _sync_filesystem(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        if _syncfs()(descriptor) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"syncfs of {folder} failed: {os.strerror(code)}")
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
