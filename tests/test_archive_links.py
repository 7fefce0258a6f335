"""Received files are archived by a hard link where possible: the bytes linked are the bytes hashed, the
shared inode becomes read-only (read bits kept), the received file's bytes, name and mtime never change;
a copy is made instead on another file system, for a file not ours to chmod, for a file changed less
than 2 s ago, or with TIKTOK_ARCHIVE_MODE=copy."""

import errno
import hashlib
import os
import stat
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from orchestration.lib.core import archive_batch, archive_upkeep
from orchestration.lib.core.archive import ChangedWhileReading, archive_mode_from_env, archive_relative_path
from orchestration.lib.core.archive_batch import ArchiveBatch
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv, utc_timestamp

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
LAST_WEEK = datetime(2026, 4, 2, 9, 30)


def _overview(views: int) -> bytes:
    return studio_csv(OVERVIEW, [["April 1", str(views), "0", "0", "0", "0"]])


@pytest.fixture(autouse=True)
def link_mode(monkeypatch):
    """Link mode named, as these tests are about links: unset, it is copy for root (CI's user)."""
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "link")


# copies are named at once where syncfs (Linux) makes them durable with their names; elsewhere at commit
copies_named_at_once = pytest.mark.skipif(archive_batch._syncfs() is None, reason="no syncfs: copies named at commit")


@pytest.fixture
def settled_now(monkeypatch):
    """Every file counts as settled (a test cannot age a file's ctime by 2 s without waiting)."""
    monkeypatch.setattr(archive_batch, "_SETTLE_NS", 0)


def _archived(paths) -> list:
    return [p for p in paths.archive.rglob("*") if p.is_file() and not p.name.startswith((".", "manifest"))]


def test_a_settled_file_is_hard_linked_read_only_and_the_received_file_keeps_bytes_name_and_mtime(
    tmp_path, settled_now
):
    paths = new_paths(tmp_path)
    shared = drop(paths, "acct/Overview.csv", _overview(7), mtime=LAST_WEEK)
    private = drop(paths, "acct/2026-04-02/Overview.csv", _overview(8), mtime=LAST_WEEK)
    shared.chmod(0o644)
    private.chmod(0o600)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (shared, private)}

    report = land(paths)

    assert report.files_new == 2 and report.issues == []
    assert sorted(query(paths, "select video_views from raw.studio_overview")) == [(7,), (8,)]
    stored = dict(query(paths, "select inbox_path, archive_path from raw.archive_manifest"))
    for inbox_file in (shared, private):
        archived = paths.archive / stored[inbox_file.relative_to(paths.inbox).as_posix()]
        assert os.path.samefile(archived, inbox_file), "one inode: linked, not copied"
        assert archived.stat().st_nlink == 2
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (shared, private)} == before
    assert stat.S_IMODE(shared.stat().st_mode) == 0o444, "write bits removed, read bits kept"
    assert stat.S_IMODE(private.stat().st_mode) == 0o400, "never made readable by others"
    assert sorted(p.name for p in paths.archive.rglob("*.incoming")) == []
    assert land(paths).files_new == 0


def test_copy_mode_copies_and_leaves_the_received_file_as_it_was(tmp_path, settled_now, monkeypatch):
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(7), mtime=LAST_WEEK)
    inbox_file.chmod(0o644)

    land(paths)

    [archived] = _archived(paths)
    assert not os.path.samefile(archived, inbox_file)
    assert archived.read_bytes() == _overview(7)
    assert stat.S_IMODE(archived.stat().st_mode) == 0o444
    assert stat.S_IMODE(inbox_file.stat().st_mode) == 0o644


def test_a_copy_holds_the_hashed_bytes_whether_read_in_one_go_or_in_chunks(tmp_path, monkeypatch):
    """A file that fits in one read is written from the bytes hashed; a larger one is read again in chunks and
    hashed again: both copies hold their bytes, under their hash, read-only."""
    monkeypatch.setattr(archive_batch, "_CHUNK", 1024)  # (1 MiB in use: smaller, so that the test stays small)
    contents = {  # read in one go (then the end of file); the last, in three reads of up to 1024 bytes
        "small.csv": b"Date,Video Views\n" + b"x" * 900,
        "empty.csv": b"",
        "one_chunk.bin": os.urandom(1024),
        "large.bin": os.urandom(2500),
    }
    sources = [tmp_path / name for name in contents]
    for source in sources:
        source.write_bytes(contents[source.name])
    reads = []
    real_read = os.read
    monkeypatch.setattr(archive_batch.os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with ArchiveBatch(tmp_path / "archive", link=False) as batch:
        stored = [batch.receive(str(source), source.name) for source in sources]
        batch.commit()
    assert [s.how for s in stored] == ["copied"] * 4
    for s, source in zip(stored, sources, strict=True):
        archived, data = Path(s.destination), contents[source.name]
        assert archived.read_bytes() == data and s.sha256 == hashlib.sha256(data).hexdigest()
        assert archived.name.startswith(s.sha256) and stat.S_IMODE(archived.stat().st_mode) == 0o444
    # small and one chunk: their bytes and the end of file (2 reads each); empty: the end of file (1); the large
    # one: 3 chunks and the end, twice (8)
    assert len(reads) == 2 + 1 + 2 + 8


def test_an_unknown_archive_mode_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "symlink")
    with pytest.raises(ValueError, match="TIKTOK_ARCHIVE_MODE='symlink'"):
        archive_mode_from_env()
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", " Copy ")
    assert archive_mode_from_env() == "copy"
    monkeypatch.delenv("TIKTOK_ARCHIVE_MODE")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert archive_mode_from_env() == "link"
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # root writes through a read-only mode: copies
    assert archive_mode_from_env() == "copy"
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "link")  # unless told to link
    assert archive_mode_from_env() == "link"


def test_as_root_by_default_a_file_rewritten_in_place_leaves_its_archived_bytes_as_they_were(
    tmp_path, settled_now, monkeypatch
):
    """Root's `cp` over an inbox file writes through any mode: were the archive a link to it, the archived bytes
    would change under their hash. Root's runs copy by default."""
    monkeypatch.delenv("TIKTOK_ARCHIVE_MODE")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(7), mtime=LAST_WEEK)
    inbox_file.chmod(0o644)

    land(paths)
    with open(inbox_file, "r+b") as handle:  # in place, as `cp` does: same inode
        handle.write(_overview(9))

    [archived] = _archived(paths)
    assert not os.path.samefile(archived, inbox_file)
    assert archived.read_bytes() == _overview(7)
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == archived.stem


def test_a_file_changed_in_the_last_two_seconds_is_copied_not_linked(tmp_path, monkeypatch):
    # "recently" is 10 minutes here: a stall of 2 s between the drop and the landing's clock must not settle it
    monkeypatch.setattr(archive_batch, "_SETTLE_NS", 600 * 10**9)
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(7))  # just written: it may still be growing
    inbox_file.chmod(0o644)
    land(paths)
    [archived] = _archived(paths)
    assert not os.path.samefile(archived, inbox_file)
    assert stat.S_IMODE(inbox_file.stat().st_mode) == 0o644


def test_another_file_system_falls_back_to_copying_every_file_of_the_batch(tmp_path, settled_now, monkeypatch):
    paths = new_paths(tmp_path)
    first = drop(paths, "a/Overview.csv", _overview(1), mtime=LAST_WEEK)
    second = drop(paths, "b/Overview.csv", _overview(2), mtime=LAST_WEEK)
    attempts = []

    def cross_device(source, target, **kwargs):
        attempts.append(source)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(archive_batch.os, "link", cross_device)
    with ArchiveBatch(paths.archive) as batch:
        stored = [batch.receive(first, "Overview.csv"), batch.receive(second, "Overview.csv")]
        if archive_batch._syncfs() is not None:  # copies named at once, durable by the commit's syncfs
            assert os.path.exists(stored[0].destination) and (paths.archive / archive_batch.NOT_YET_DURABLE).exists()
        else:  # each copy fsynced, named by the commit
            assert not os.path.exists(stored[0].destination)
        batch.commit()
    assert not (paths.archive / archive_batch.NOT_YET_DURABLE).exists()
    assert [s.how for s in stored] == ["copied", "copied"]
    assert len(attempts) == 1, "after EXDEV the batch stops trying to link"
    assert [Path(s.destination).read_bytes() for s in stored] == [_overview(1), _overview(2)]
    assert [stat.S_IMODE(os.stat(s.destination).st_mode) for s in stored] == [0o444, 0o444]


def test_a_file_that_is_not_ours_to_chmod_is_copied_and_no_link_is_left(tmp_path, settled_now, monkeypatch):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    inbox_file.chmod(0o644)

    def not_owner(descriptor, mode):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(archive_batch.os, "fchmod", not_owner)
    with ArchiveBatch(paths.archive) as batch:
        stored = batch.receive(inbox_file, "Overview.csv")
        batch.commit()
    assert stored.how == "copied"
    assert not os.path.samefile(stored.destination, inbox_file)
    assert inbox_file.stat().st_nlink == 1 and stat.S_IMODE(inbox_file.stat().st_mode) == 0o644
    assert list(paths.archive.rglob("*.incoming")) == []


def test_a_file_swapped_between_hashing_and_linking_is_not_archived_and_is_taken_next_run(
    tmp_path, settled_now, monkeypatch
):
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    replacement = tmp_path / "replacement.csv"
    replacement.write_bytes(_overview(2))
    os.utime(replacement, (utc_timestamp(LAST_WEEK), utc_timestamp(LAST_WEEK)))
    real_link = os.link

    def swap_then_link(source, target, **kwargs):
        os.replace(replacement, source)  # a sync client replaced the file after it was hashed
        return real_link(source, target, **kwargs)

    monkeypatch.setattr(archive_batch.os, "link", swap_then_link)
    report = land(paths)
    assert report.files_new == 0
    assert [(path, reason.split(" (")[0]) for path, reason in report.inbox.refused] == [
        ("acct/Overview.csv", "could not be read safely")
    ]
    assert _archived(paths) == [] and list(paths.archive.rglob("*.incoming")) == []
    assert query(paths, "select count(*) from raw.studio_overview") == [(0,)]

    monkeypatch.setattr(archive_batch.os, "link", real_link)
    assert land(paths).files_new == 1
    assert query(paths, "select video_views from raw.studio_overview") == [(2,)], "the bytes at the path now"


def test_a_link_or_a_fifo_is_never_opened_for_hashing(tmp_path):
    paths = new_paths(tmp_path)
    target = drop(paths, "acct/Overview.csv", _overview(1))
    os.symlink(target, paths.inbox / "acct" / "Linked.csv")
    os.mkfifo(paths.inbox / "acct" / "Pipe.csv")
    with ArchiveBatch(paths.archive) as batch:
        with pytest.raises(OSError):
            batch.receive(paths.inbox / "acct" / "Linked.csv", "Linked.csv")
        with pytest.raises(OSError, match="not a regular file"):
            batch.receive(paths.inbox / "acct" / "Pipe.csv", "Pipe.csv")
    assert _archived(paths) == []


@pytest.mark.parametrize("link", [True, False], ids=["linked", "copied"])
def test_nothing_uncommitted_is_left_in_the_archive(tmp_path, settled_now, link):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    with ArchiveBatch(paths.archive, link=link) as batch:
        stored = batch.receive(inbox_file, "Overview.csv")
        again = batch.receive(inbox_file, "Overview.csv")
    how = "linked" if link else "copied"
    assert (stored.how, again.how) == (how, "present"), "the same bytes twice in one batch are stored once"
    assert not os.path.exists(stored.destination) and list(paths.archive.rglob("*.incoming")) == []
    assert inbox_file.read_bytes() == _overview(1)


def test_bytes_that_changed_while_read_raise(tmp_path, monkeypatch):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1))
    real_fstat = os.fstat
    calls = []

    def growing(descriptor):
        calls.append(descriptor)
        if len(calls) == 2:  # after hashing: the writer appended a row meanwhile
            with inbox_file.open("ab") as handle:
                handle.write(b"\n")
        return real_fstat(descriptor)

    monkeypatch.setattr(archive_batch.os, "fstat", growing)
    later = time.time_ns() + 60 * 10**9  # settled even after the append: the link path would take it
    with ArchiveBatch(paths.archive, now_ns=later) as batch, pytest.raises(ChangedWhileReading):
        batch.receive(inbox_file, "Overview.csv")
    assert list(paths.archive.rglob("*.*")) == []


def test_receipts_are_handed_over_committed_in_order_each_once(tmp_path, settled_now, exact_clock, monkeypatch):
    from orchestration.lib.core.receipts import archive_new_inbox_files
    from orchestration.lib.core.warehouse import connect

    paths = new_paths(tmp_path)
    for n in range(7):
        drop(paths, f"acct/{n}/Overview.csv", _overview(n), mtime=LAST_WEEK)
    drop(paths, "acct/again/Overview.csv", _overview(3), mtime=LAST_WEEK)  # bytes already stored: "present"
    handed, syncs_when_handed = [], []
    calls = _counting(monkeypatch)

    def archived(received):  # each one already under its final name, no temporary left for it
        assert all(os.path.isfile(item.stored) for item in received)
        handed.append([item.inbox_path for item in received])
        syncs_when_handed.append(len(calls["syncfs"]))

    with connect(paths.warehouse) as con:
        scan = archive_new_inbox_files(paths, con, on_archived=archived, commit_every=3)
    assert [len(chunk) for chunk in handed] == [3, 3, 2]
    # the bytes were flushed before the first link; the names are made durable once, by the last hand-over's
    # commit (before any manifest line names them), not by every part's
    if archive_batch._syncfs() is not None:
        assert syncs_when_handed == [1, 1, 2] and calls == {"syncfs": [1, 1], "replace": []}
    assert [path for chunk in handed for path in chunk] == [item.inbox_path for item in scan.received]
    assert sorted(item.inbox_path for item in scan.received) == [item.inbox_path for item in scan.received]
    assert scan.stored == {"linked": 7, "copied": 0, "present": 1}
    assert list(paths.archive.rglob("*.incoming")) == []


@pytest.fixture
def exact_clock(monkeypatch):
    """File times as exact as the clock: a file written before the batch's syncfs counts as flushed by it."""
    monkeypatch.setattr(archive_batch, "_CLOCK_SLACK_NS", 0)


def _counting(monkeypatch) -> dict[str, list]:
    calls: dict[str, list] = {"syncfs": [], "replace": []}
    real_sync, real_replace = archive_batch._sync_filesystem, archive_batch.os.replace
    monkeypatch.setattr(
        archive_batch, "_sync_filesystem", lambda folder: (calls["syncfs"].append(1), real_sync(folder))
    )
    monkeypatch.setattr(archive_batch.os, "replace", lambda a, b: (calls["replace"].append(b), real_replace(a, b)))
    return calls


@pytest.mark.skipif(archive_batch._syncfs() is None, reason="syncfs (Linux) flushes a batch's received files")
def test_a_file_unchanged_since_the_batchs_syncfs_is_linked_under_its_final_name_without_a_rename(
    tmp_path, settled_now, exact_clock, monkeypatch
):
    paths = new_paths(tmp_path)
    old = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    calls = _counting(monkeypatch)
    settled = time.time_ns() + 60 * 10**9  # every file counts as settled, even one written during the batch
    with ArchiveBatch(paths.archive, now_ns=settled) as batch:
        stored = batch.receive(old, "Overview.csv")  # the batch's first link flushes the file system first
        assert calls == {"syncfs": [1], "replace": []}
        assert os.path.samefile(stored.destination, old) and list(paths.archive.rglob("*.incoming")) == []
        time.sleep(0.05)  # file times come from a clock a tick (up to ~10 ms) behind: let it pass the syncfs
        newer = drop(paths, "acct/2026-04-03/Overview.csv", _overview(2), mtime=LAST_WEEK)  # written after it
        later = batch.receive(newer, "Overview.csv")
        assert not os.path.exists(later.destination), "changed since the syncfs: named only once flushed"
        batch.commit()
    assert (stored.how, later.how) == ("linked", "linked")
    # one syncfs before the link, one for the newer file's bytes, one for the names; one rename, the newer file's
    assert calls == {"syncfs": [1, 1, 1], "replace": [later.destination]}
    assert os.path.samefile(later.destination, newer) and list(paths.archive.rglob("*.incoming")) == []
    assert stat.S_IMODE(os.stat(stored.destination).st_mode) & 0o222 == 0


def test_a_file_linked_under_its_final_name_but_not_committed_is_removed_on_exit(tmp_path, settled_now, exact_clock):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    with ArchiveBatch(paths.archive) as batch:
        stored = batch.receive(inbox_file, "Overview.csv")
    assert stored.how == "linked" and not os.path.exists(stored.destination)
    assert inbox_file.read_bytes() == _overview(1) and _archived(paths) == []


@pytest.mark.parametrize("probes", [archive_batch._PROBES_BEFORE_LISTING, 1])  # 1: listed when asked again
def test_a_few_files_are_looked_up_by_a_stat_and_a_folder_asked_often_is_listed(
    tmp_path, settled_now, monkeypatch, probes
):
    paths = new_paths(tmp_path)
    files = [drop(paths, f"acct/{n}/Overview.csv", _overview(n), mtime=LAST_WEEK) for n in range(6)]
    with ArchiveBatch(paths.archive) as batch:
        for inbox_file in files[:4]:
            batch.receive(inbox_file, "Overview.csv")
        batch.commit()
    monkeypatch.setattr(archive_batch, "_PROBES_BEFORE_LISTING", probes)
    listed, real_listdir = [], archive_batch.os.listdir
    monkeypatch.setattr(archive_batch.os, "listdir", lambda folder: (listed.append(folder), real_listdir(folder))[1])
    with ArchiveBatch(paths.archive) as batch:
        first = [batch.receive(inbox_file, "Overview.csv").how for inbox_file in files]
        second = [batch.receive(inbox_file, "Overview.csv").how for inbox_file in files]  # each asked again
        batch.commit()
    # the same answers either way: 4 archived before, 2 new, then all 6 present (named, or listed with them)
    assert first == ["present"] * 4 + ["linked"] * 2 and second == ["present"] * 6
    # a daily drop's few files per folder: a stat each, no listing; asked often, a folder is listed once (the
    # folders of the 4 archived before: the 2 new files wait under temporary names, known without asking)
    archived_before = {
        str(paths.archive / archive_relative_path(hashlib.sha256(f.read_bytes()).hexdigest(), f.name)).rsplit("/", 1)[0]
        for f in files[:4]
    }
    assert sorted(listed) == ([] if probes > 1 else sorted(archived_before))
    assert len(_archived(paths)) == 6


@pytest.mark.skipif(archive_batch._syncfs() is None, reason="syncfs (Linux) flushes a batch's received files")
def test_a_flush_started_ahead_is_the_one_the_first_link_waits_for(tmp_path, settled_now, exact_clock, monkeypatch):
    paths = new_paths(tmp_path)
    old = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    calls = _counting(monkeypatch)
    settled = time.time_ns() + 60 * 10**9
    with ArchiveBatch(paths.archive, now_ns=settled) as batch:
        batch.flush_ahead()
        batch.flush_ahead()  # once per batch
        stored = batch.receive(old, "Overview.csv")  # waits for that flush: no second one, no temporary
        assert calls == {"syncfs": [1], "replace": []}
        batch.commit()
    assert stored.how == "linked" and os.path.samefile(stored.destination, old)
    assert calls == {"syncfs": [1, 1], "replace": []}  # and the names' at the commit


@pytest.mark.skipif(archive_batch._syncfs() is None, reason="syncfs (Linux) flushes a batch's received files")
def test_a_flush_ahead_that_failed_is_run_again_by_the_first_link(tmp_path, settled_now, exact_clock, monkeypatch):
    paths = new_paths(tmp_path)
    old = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    calls, real_sync = [], archive_batch._sync_filesystem

    def sync(folder):  # the first one fails
        calls.append(folder)
        if len(calls) == 1:
            raise OSError(5, "I/O error")
        real_sync(folder)

    monkeypatch.setattr(archive_batch, "_sync_filesystem", sync)
    with ArchiveBatch(paths.archive, now_ns=time.time_ns() + 60 * 10**9) as batch:
        batch.flush_ahead()
        stored = batch.receive(old, "Overview.csv")  # the failed flush proves nothing: the link flushes again
        batch.commit()
    assert stored.how == "linked" and os.path.samefile(stored.destination, old)
    assert len(calls) == 3  # the failed flush ahead, the first link's, the commit's


def test_a_flush_ahead_with_nothing_linked_is_waited_for_on_exit(tmp_path, monkeypatch):
    paths = new_paths(tmp_path)
    started, release = threading.Event(), threading.Event()

    def slow_sync(folder):
        started.set()
        release.wait(10)

    monkeypatch.setattr(archive_batch, "_sync_filesystem", slow_sync)
    monkeypatch.setattr(archive_batch, "_syncfs", lambda: slow_sync)
    batch = ArchiveBatch(paths.archive)
    with batch:
        batch.flush_ahead()
        assert started.wait(10)
        threading.Timer(0.1, release.set).start()
    assert batch._flush is None or not batch._flush.is_alive()  # the thread ended before the batch did


@pytest.mark.skipif(archive_batch._syncfs() is None, reason="syncfs (Linux) makes a batch's names durable")
def test_a_landing_stopped_half_way_makes_the_names_it_gave_durable(tmp_path, settled_now, exact_clock, monkeypatch):
    from orchestration.lib.core.receipts import archive_new_inbox_files
    from orchestration.lib.core.warehouse import connect

    paths = new_paths(tmp_path)
    for n in range(4):
        drop(paths, f"acct/{n}/Overview.csv", _overview(n), mtime=LAST_WEEK)
    calls = _counting(monkeypatch)

    def archived(received):  # the readers fail on the second part
        if received[0].inbox_path.startswith("acct/2"):
            raise RuntimeError("a reader failed")

    with connect(paths.warehouse) as con, pytest.raises(RuntimeError, match="a reader failed"):
        archive_new_inbox_files(paths, con, on_archived=archived, commit_every=2)
    # the first part's names stay (the next run finds them archived), made durable on the way out: the flush
    # before the first link, then the names' syncfs
    assert len(_archived(paths)) == 4 and calls["syncfs"] == [1, 1]


@pytest.mark.skipif(archive_batch._syncfs() is None, reason="syncfs (Linux) makes a batch's names durable")
def test_names_found_archived_are_made_durable_before_the_batch_ends(tmp_path, settled_now, exact_clock, monkeypatch):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    killed = ArchiveBatch(paths.archive)  # a run killed after naming its objects: no exit, no names' syncfs
    killed.receive(inbox_file, "Overview.csv")
    killed.commit(names_durable=False)
    calls = _counting(monkeypatch)
    with ArchiveBatch(paths.archive) as batch:
        assert batch.receive(inbox_file, "Overview.csv").how == "present"
        batch.commit()  # its manifest line may name the object: its name is made durable first
    assert calls == {"syncfs": [1], "replace": []}


def test_a_copy_run_makes_the_links_of_earlier_link_runs_copies_once(tmp_path, settled_now, monkeypatch):
    """Root's runs linked before they copied: the first run in copy mode gives each linked object an inode of its
    own (same bytes, read-only), so a write to the inbox file no longer reaches the archive."""
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(7), mtime=LAST_WEEK)
    inbox_file.chmod(0o644)
    land(paths)  # link mode (the fixture)
    [archived] = _archived(paths)
    assert os.path.samefile(archived, inbox_file)
    marker = paths.warehouse.parent / "archive_copies_only"
    assert not marker.exists()

    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")
    drop(paths, "acct/Viewers.csv", studio_csv(("Date", "Total Viewers", "New Viewers", "Returning Viewers"),
                                               [["April 1", "3", "2", "1"]]), mtime=LAST_WEEK)  # fmt: skip
    assert land(paths).files_new == 1

    assert not os.path.samefile(archived, inbox_file) and archived.stat().st_nlink == 1
    assert archived.read_bytes() == _overview(7) and stat.S_IMODE(archived.stat().st_mode) == 0o444
    assert marker.exists()
    assert archive_upkeep.break_links_once(paths.archive, marker) == 0, "once: the marker says the archive was walked"
    os.chmod(inbox_file, 0o644)
    inbox_file.write_bytes(_overview(9))  # in place
    assert archived.read_bytes() == _overview(7)
    assert sorted(p.name for p in paths.archive.rglob("*.unlinking")) == []


def test_an_object_that_cannot_be_copied_is_left_linked_and_tried_again_by_the_next_run(
    tmp_path, settled_now, monkeypatch
):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(7), mtime=LAST_WEEK)
    inbox_file.chmod(0o600)  # private: the copy must not become readable by others
    land(paths)
    [archived] = _archived(paths)
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")
    marker = paths.warehouse.parent / "archive_copies_only"
    real_fsync = os.fsync

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    assert archive_upkeep.break_links_once(paths.archive, marker) == 0
    assert os.path.samefile(archived, inbox_file), "left as it was"
    assert list(paths.archive.rglob("*.unlinking")) == [] and not marker.exists()

    monkeypatch.setattr(os, "fsync", real_fsync)
    land(paths)  # the next run walks the archive again
    assert not os.path.samefile(archived, inbox_file) and marker.exists()
    assert stat.S_IMODE(archived.stat().st_mode) == 0o400 and archived.stat().st_uid == inbox_file.stat().st_uid


@copies_named_at_once
def test_copies_are_named_at_once_and_the_marker_stands_until_the_names_syncfs(tmp_path, monkeypatch):
    paths = new_paths(tmp_path)
    files = [drop(paths, f"acct/{n}/Overview.csv", _overview(n), mtime=LAST_WEEK) for n in range(3)]
    marker = paths.archive / archive_batch.NOT_YET_DURABLE
    calls = _counting(monkeypatch)
    with ArchiveBatch(paths.archive, link=False) as batch:
        first = [batch.receive(f, "Overview.csv") for f in files[:2]]
        assert all(os.path.exists(s.destination) for s in first) and marker.exists()
        batch.commit(names_durable=False)  # handed to the readers: named, not durable yet
        assert marker.exists() and calls == {"syncfs": [], "replace": []}
        last = batch.receive(files[2], "Overview.csv")
        batch.commit()
        assert not marker.exists()
    assert [s.how for s in [*first, last]] == ["copied"] * 3
    assert calls == {"syncfs": [1], "replace": []}, "one syncfs for bytes and names, no rename"
    assert [Path(s.destination).read_bytes() for s in [*first, last]] == [_overview(n) for n in range(3)]
    assert list(paths.archive.rglob("*.incoming")) == []


@copies_named_at_once
def test_a_copy_cut_short_by_a_kill_is_set_aside_and_its_file_landed_again_whole(tmp_path, settled_now, monkeypatch):
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")
    monkeypatch.setattr(archive_upkeep, "_CLOCK_SLACK_NS", 0)  # file times as exact as the clock
    paths = new_paths(tmp_path)
    drop(paths, "acct/2026-04-01/Overview.csv", _overview(1), mtime=LAST_WEEK)
    land(paths)  # its object is durable, a receipt names it, and it is older than the marker below
    time.sleep(0.05)  # file times come from a clock a tick behind
    cut = drop(paths, "acct/2026-04-02/Overview.csv", _overview(2), mtime=LAST_WEEK)
    whole = drop(paths, "acct/2026-04-03/Overview.csv", _overview(3), mtime=LAST_WEEK)
    killed = ArchiveBatch(paths.archive, link=False)  # killed before its names' syncfs: no commit, no exit
    cut_short, kept = killed.receive(cut, "Overview.csv"), killed.receive(whole, "Overview.csv")
    damaged = Path(cut_short.destination)
    damaged.chmod(0o644)
    damaged.write_bytes(_overview(2)[:10])  # what a crash can leave of a copy not yet durable
    hashed = []
    real_digest = archive_upkeep.hashlib.file_digest
    monkeypatch.setattr(archive_upkeep.hashlib, "file_digest", lambda f, d: hashed.append(f.name) or real_digest(f, d))

    report = land(paths)

    assert sorted(hashed) == sorted([cut_short.destination, kept.destination]), (
        "not what a receipt names, unchanged since"
    )
    assert report.files_new == 2 and report.issues == []
    assert report.archive_set_aside == [cut_short.destination], "the run's log says so"
    assert damaged.read_bytes() == _overview(2) and kept.how == "copied"
    [aside] = damaged.parent.glob(f"{damaged.name}.*{archive_upkeep.DAMAGED_SUFFIX}")
    assert aside.read_bytes() == _overview(2)[:10], "set aside, kept"
    assert sorted(query(paths, "select video_views from raw.studio_overview")) == [(1,), (2,), (3,)]
    assert not (paths.archive / archive_batch.NOT_YET_DURABLE).exists()
    assert land(paths).files_new == 0


@copies_named_at_once
def test_the_marker_is_durable_before_the_first_copy_and_removed_after_the_names_syncfs(tmp_path, monkeypatch):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    archive, events = os.fspath(paths.archive), []
    real_open, real_fsync, real_unlink = os.open, os.fsync, archive_batch._unlink
    real_sync = archive_batch._sync_filesystem

    def opened(path, flags, *args, **kwargs):
        if os.fspath(path).startswith(archive + os.sep):
            events.append(("open", os.path.basename(path)))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(archive_batch.os, "open", opened)

    def synced(fd):  # the file or folder flushed, by name
        events.append(("fsync", os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
        return real_fsync(fd)

    monkeypatch.setattr(archive_batch.os, "fsync", synced)
    monkeypatch.setattr(archive_batch, "_sync_filesystem", lambda f: (events.append(("syncfs",)), real_sync(f)))
    monkeypatch.setattr(
        archive_batch, "_unlink", lambda p: (events.append(("unlink", os.path.basename(p))), real_unlink(p))
    )
    with ArchiveBatch(paths.archive, link=False) as batch:
        stored = batch.receive(inbox_file, "Overview.csv")
        batch.commit()
    marker, copy = archive_batch.NOT_YET_DURABLE, os.path.basename(stored.destination)
    assert events == [
        ("open", marker), ("fsync", marker), ("fsync", "archive"),  # the marker, durably
        ("open", copy),  # then the copy, under its final name
        ("syncfs",), ("unlink", marker),  # the names' syncfs, then the marker goes
    ]  # fmt: skip


@copies_named_at_once
def test_a_copy_batch_stopped_half_way_keeps_what_it_committed_durably_and_removes_the_rest(tmp_path, settled_now):
    paths = new_paths(tmp_path)
    files = [drop(paths, f"acct/{n}/Overview.csv", _overview(n), mtime=LAST_WEEK) for n in range(2)]
    with pytest.raises(RuntimeError, match="a reader failed"), ArchiveBatch(paths.archive, link=False) as batch:
        committed = batch.receive(files[0], "Overview.csv")
        batch.commit(names_durable=False)  # handed to the readers
        dropped = batch.receive(files[1], "Overview.csv")
        raise RuntimeError("a reader failed")
    assert Path(committed.destination).read_bytes() == _overview(0)
    assert not os.path.exists(dropped.destination)
    assert not (paths.archive / archive_batch.NOT_YET_DURABLE).exists(), "what stays was made durable on the way out"


def test_an_object_named_behind_the_batchs_back_is_replaced_by_the_copy_at_commit(tmp_path, settled_now, monkeypatch):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    calls = _counting(monkeypatch)
    with ArchiveBatch(paths.archive, link=False) as batch:
        destination = Path(paths.archive / archive_relative_path(hashlib.sha256(_overview(1)).hexdigest(), "x.csv"))
        destination.parent.mkdir(parents=True)
        destination.write_bytes(b"not these bytes")  # made between the batch's look-up and its copy
        monkeypatch.setattr(batch, "_archived", lambda *args: False)
        stored = batch.receive(inbox_file, "Overview.csv")
        assert destination.read_bytes() == b"not these bytes", "never written over in place"
        batch.commit()
    assert stored.how == "copied" and calls["replace"] == [stored.destination]
    assert destination.read_bytes() == _overview(1) and list(paths.archive.rglob("*.incoming")) == []


@copies_named_at_once
def test_an_object_a_receipt_names_copied_again_and_cut_short_is_set_aside(tmp_path, settled_now, monkeypatch):
    """An object deleted by hand, its bytes received again at another path: the stopped landing copied it under
    the name a receipt gives, so the check hashes what changed since the marker too."""
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")
    paths = new_paths(tmp_path)
    drop(paths, "acct/2026-04-01/Overview.csv", _overview(1), mtime=LAST_WEEK)
    land(paths)
    [archived] = _archived(paths)
    archived.unlink()
    again = drop(paths, "other/2026-04-01/Overview.csv", _overview(1), mtime=LAST_WEEK)
    killed = ArchiveBatch(paths.archive, link=False)  # killed before its names' syncfs
    assert killed.receive(again, "Overview.csv").how == "copied"
    archived.chmod(0o644)
    archived.write_bytes(b"torn")

    land(paths)

    assert archived.read_bytes() == _overview(1), "copied again whole"
    assert [p.read_bytes() for p in archived.parent.glob(f"{archived.name}.*{archive_upkeep.DAMAGED_SUFFIX}")] == [
        b"torn"
    ]


@copies_named_at_once
def test_a_batch_whose_every_copy_failed_still_removes_its_marker(tmp_path, settled_now, monkeypatch):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)

    def disk_full(descriptor, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive_batch, "_write_all", disk_full)
    with ArchiveBatch(paths.archive, link=False) as batch:
        with pytest.raises(OSError, match="No space"):
            batch.receive(inbox_file, "Overview.csv")
        batch.commit()
    assert _archived(paths) == [] and not (paths.archive / archive_batch.NOT_YET_DURABLE).exists()


@copies_named_at_once
def test_a_marker_left_by_a_stopped_landing_is_never_removed_by_a_batch_that_did_not_check_it(tmp_path, settled_now):
    paths = new_paths(tmp_path)
    inbox_file = drop(paths, "acct/Overview.csv", _overview(1), mtime=LAST_WEEK)
    marker = paths.archive / archive_batch.NOT_YET_DURABLE
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()  # a stopped landing's, not checked yet
    with ArchiveBatch(paths.archive, link=False) as batch:
        stored = batch.receive(inbox_file, "Overview.csv")
        batch.commit()
    assert Path(stored.destination).read_bytes() == _overview(1)
    assert marker.exists(), "left for the next landing's check"
