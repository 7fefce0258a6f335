"""What a landing does to the archive before it stores anything: bring it to a state the batch can trust.

- `verify_not_yet_durable`: after a landing stopped before its copies were durable (`archive_batch`'s marker), the
  copies cut short are set aside, so that no object is taken as present with bytes other than its name says.
- `break_links_once`: in copy mode, objects linked by earlier runs become copies of their own, once.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

from orchestration.lib.core.archive_batch import (
    _CHUNK,
    _CLOCK_SLACK_NS,
    _LOG,
    NOT_YET_DURABLE,
    _fsync_folder,
    _sync_filesystem,
    _syncfs,
    _unlink,
)

DAMAGED_SUFFIX = ".damaged"  # an object set aside by `verify_not_yet_durable`: its bytes do not hash to its name
# An object's name as `archive_relative_path` gives it: the hash, one extension at most (not a temporary, nor one set
# aside)
_OBJECT_NAME = re.compile(r"[0-9a-f]{64}(\.[^.]*)?")


def verify_not_yet_durable(archive_dir: Path, named_by_receipts: Callable[[], set[str]]) -> list[str]:
    """After a landing that stopped before its copies were durable (the marker `NOT_YET_DURABLE` is there): each
    object no receipt names (`named_by_receipts()`: their archive paths, `<sha[:2]>/<sha><ext>`) is hashed again,
    and so is one a receipt names that changed since the marker was made (copied again by the stopped landing:
    deleted by hand, the same bytes received at another path). One whose bytes do not hash to its name (a copy cut
    short by a kill or a crash) is set aside as `<object>.<token>.damaged`, never deleted; its received file is
    then archived again as new. The other objects receipts name are durable: a landing writes receipts only after
    its last `syncfs`, which removes the marker; those are told by their times only because a clock set back
    during a run can hide a copy from a time test, never from the first. Returns the objects set aside; removes
    the marker once that is durable. Without the marker: one stat. A file it cannot read stops the landing, as it
    would stop the batch: nothing is taken as present unchecked."""
    marker = os.path.join(os.fspath(archive_dir), NOT_YET_DURABLE)
    try:
        since = os.lstat(marker).st_ctime_ns - _CLOCK_SLACK_NS
    except FileNotFoundError:
        return []
    named = named_by_receipts()
    damaged = []
    for folder in sorted(os.scandir(archive_dir), key=lambda e: e.name):
        if len(folder.name) != 2 or not folder.is_dir(follow_symlinks=False):
            continue
        for entry in sorted(os.scandir(folder.path), key=lambda e: e.name):
            if not _OBJECT_NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            if f"{folder.name}/{entry.name}" in named:
                status = entry.stat(follow_symlinks=False)
                if max(status.st_mtime_ns, status.st_ctime_ns) < since:
                    continue
            with open(entry.path, "rb") as handle:
                if hashlib.file_digest(handle, "sha256").hexdigest() == entry.name[:64]:
                    continue
            aside = f"{entry.path}.{uuid.uuid4().hex[:8]}{DAMAGED_SUFFIX}"  # two dots: never an object's name
            os.replace(entry.path, aside)
            damaged.append(entry.path)
            _LOG.warning("%s: its bytes do not hash to its name (a copy cut short); set aside as %s, and its "
                         "received file is archived again", entry.path, aside)  # fmt: skip
    if _syncfs() is not None:
        _sync_filesystem(Path(archive_dir))
    else:
        for path in sorted({os.path.dirname(p) for p in damaged}):
            _fsync_folder(Path(path))
    _unlink(marker)
    return damaged


def break_links_once(archive_dir: Path, marker: Path) -> int:
    """In copy mode, each archived object still sharing its inode with an inbox file (a link, from a run in link
    mode) becomes a copy of its own, once: a run as root linked files before root runs copied, and root's write
    to such an inbox file would change the archived bytes. Returns how many objects were copied; `marker` (a
    file beside the warehouse) says the archive was walked, and a run in link mode removes it.

    An object that cannot be copied (a full disk, a permission) is left as it is, logged, and the walk is done
    again by the next run (no marker); the landing goes on. A copy is read-only with the object's read bits and
    keeps its owner where it may; one whose bytes no longer hash to its name (written through the link already)
    is logged: a replay refuses it."""
    if marker.exists() or not Path(archive_dir).is_dir():
        return 0
    copied, failed = 0, []
    for folder in sorted(Path(archive_dir).iterdir()):
        if not (folder.is_dir() and len(folder.name) == 2):
            continue
        entries = list(os.scandir(folder))
        for entry in entries:  # what a walk stopped half-way left
            if entry.name.endswith(".unlinking"):
                _unlink(entry.path)
        linked = [
            entry.path
            for entry in entries
            if not entry.name.endswith(".unlinking")
            and entry.is_file(follow_symlinks=False)
            and entry.stat(follow_symlinks=False).st_nlink > 1
        ]
        for path in linked:
            try:
                _copy_in_place(path)
                copied += 1
            except OSError as error:
                failed.append(path)
                _LOG.warning("archive object %s still shares its inode with an inbox file: %s", path, error)
        if linked:
            try:
                _fsync_folder(folder)  # the copies' names durable
            except OSError as error:
                failed.append(str(folder))
                _LOG.warning("archive folder %s could not be synced: %s", folder, error)
    if not failed:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("archive objects are copies: none shares its inode with an inbox file\n", encoding="utf-8")
    return copied


def _copy_in_place(path: str) -> None:
    """Replace `path` by a read-only copy of its bytes (a new inode), atomically; nothing left on failure."""
    temporary = f"{path}.{uuid.uuid4().hex[:8]}.unlinking"
    status = os.stat(path, follow_symlinks=False)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as source, open(temporary, "xb") as target:
            while block := source.read(_CHUNK):
                digest.update(block)
                target.write(block)
            target.flush()
            os.fsync(target.fileno())
        os.chmod(temporary, stat.S_IMODE(status.st_mode) & 0o444)  # read-only; read bits kept, never widened
        if hasattr(os, "chown"):
            try:
                os.chown(temporary, status.st_uid, status.st_gid)  # the owner keeps reading it
            except PermissionError:
                pass
        os.replace(temporary, path)
    except BaseException:
        _unlink(temporary)
        raise
    if not os.path.basename(path).startswith(digest.hexdigest()):
        _LOG.warning("archive object %s no longer holds the bytes of its name (written through its link)", path)
