"""Inbox hygiene: OS/browser litter is skipped quietly, links, FIFOs and hidden folders are refused and
never read, and a file name that is not UTF-8 lands under a safe name instead of crashing the run."""

import json
import os
import threading
from datetime import datetime

import pytest

from orchestration.defs.automation import inbox_fingerprint
from orchestration.lib.core.inbox import (
    REFUSED_HIDDEN_FOLDER,
    REFUSED_LINK,
    REFUSED_SPECIAL,
    describe_skipped,
    walk_inbox,
)
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")


def _overview(views: int) -> bytes:
    """A valid Overview.csv whose views tell which file a landed row came from."""
    return studio_csv(OVERVIEW, [["April 1", str(views), "0", "0", "0", "0"]])


GOOD = _overview(1)
# Each would land (or be quarantined) if it were read: its views say which one leaked.
LITTER = {
    ".DS_Store": _overview(2),
    "._Overview.csv": _overview(3),
    "__MACOSX/acct/._Overview.csv": _overview(4),
    "acct/desktop.ini": _overview(5),
    "acct/Thumbs.db": _overview(6),
    "acct/Overview.csv:Zone.Identifier": _overview(7),
    "acct/Overview 2.csv.crdownload": _overview(8),
    "acct/Overview 3.csv.part": _overview(9),
    "acct/Overview 4.csv.download/Overview 4.csv": _overview(10),
    "acct/~$Overview.xlsx": _overview(11),
    "acct/.~lock.Overview.csv#": _overview(12),
}


def _build_inbox(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", GOOD)
    for name, data in LITTER.items():
        drop(paths, name, data)
    # outside the inbox, a valid export and a secret: a followed link would land or copy them
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "Overview.csv").write_bytes(_overview(100))
    (outside / "secret.txt").write_bytes(b"SECRET-BYTES-NEVER-ARCHIVED")
    os.symlink(outside / "Overview.csv", paths.inbox / "acct" / "Overview 5.csv")  # file link, out
    os.symlink(outside, paths.inbox / "linked_account")  # folder link, out
    os.symlink(paths.inbox / "acct" / "Overview.csv", paths.inbox / "acct" / "Overview 6.csv")  # link, inside
    os.symlink(outside / "secret.txt", paths.inbox / "Content.csv")
    os.mkfifo(paths.inbox / "acct" / "Overview 7.csv")  # opening it for reading would block forever
    drop(paths, ".hidden/Overview.csv", _overview(200))
    drop(paths, "acct/.snapshots/Overview.csv", _overview(300))
    return paths


def _land_with_deadline(paths, seconds=60):
    """Land in a thread: a FIFO opened by mistake would hang the test instead of failing it."""
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(report=land(paths)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "landing blocked (a FIFO was opened?)"
    return outcome["report"]


def test_only_the_good_file_lands_litter_is_quiet_and_refused_entries_are_never_read(tmp_path):
    paths = _build_inbox(tmp_path)
    report = _land_with_deadline(paths)

    assert query(paths, "select account_handle, video_views from raw.studio_overview") == [("acct", 1)]
    assert query(paths, "select inbox_path from raw.archive_manifest") == [("acct/Overview.csv",)]
    assert [json.loads(line)["inbox_path"] for line in paths.manifest.read_text().splitlines()] == ["acct/Overview.csv"]
    assert report.files_seen == 1 and report.issues == []
    assert list(paths.quarantine.iterdir()) == [], "no quarantine report for litter or refused entries"

    # litter: skipped without a report, counted once (a litter folder counts once)
    assert sorted(report.inbox.ignored) == sorted(
        [".DS_Store", "._Overview.csv", "__MACOSX/", "acct/desktop.ini", "acct/Thumbs.db",
         "acct/Overview.csv:Zone.Identifier", "acct/Overview 2.csv.crdownload", "acct/Overview 3.csv.part",
         "acct/Overview 4.csv.download/", "acct/~$Overview.xlsx", "acct/.~lock.Overview.csv#"]
    )  # fmt: skip
    assert sorted(report.inbox.refused) == [
        (".hidden/", REFUSED_HIDDEN_FOLDER),
        ("Content.csv", REFUSED_LINK),
        ("acct/.snapshots/", REFUSED_HIDDEN_FOLDER),
        ("acct/Overview 5.csv", REFUSED_LINK),
        ("acct/Overview 6.csv", REFUSED_LINK),
        ("acct/Overview 7.csv", REFUSED_SPECIAL),
        ("linked_account", REFUSED_LINK),
    ]
    log = describe_skipped(report.inbox)
    assert log[0] == (
        "info",
        "ignored 11 OS/browser leftover(s) in the inbox (e.g. .DS_Store, ._Overview.csv, __MACOSX/, ...)",
    )
    assert [level for level, _ in log[1:]] == ["warning"] * 7

    # nothing of a refused or ignored file was copied anywhere in the data directory
    archived = [
        p for p in paths.archive.rglob("*") if p.is_file() and p.name not in ("manifest.jsonl", ".manifest.jsonl.lock")
    ]
    assert [p.read_bytes() for p in archived] == [GOOD]
    for path in paths.root.rglob("*"):
        if path.is_file() and not path.is_symlink() and paths.inbox not in path.parents:
            data = path.read_bytes()
            assert b"SECRET-BYTES" not in data, path
    assert (tmp_path / "elsewhere" / "secret.txt").read_bytes() == b"SECRET-BYTES-NEVER-ARCHIVED"
    assert land(paths).files_new == 0, "a rerun refuses the same entries and lands nothing new"


def test_the_sensor_sees_the_same_files_as_landing(tmp_path):
    paths = _build_inbox(tmp_path)
    before = inbox_fingerprint(paths.inbox)
    drop(paths, "acct/Thumbs.db", b"changed litter")
    os.symlink(tmp_path / "elsewhere" / "Overview.csv", paths.inbox / "acct" / "Overview 8.csv")
    drop(paths, ".hidden/Overview 2.csv", _overview(400))
    assert inbox_fingerprint(paths.inbox) == before, "litter, links and hidden folders never start a run"
    drop(paths, "acct/Viewers.csv", b"anything")
    assert inbox_fingerprint(paths.inbox) != before
    assert inbox_fingerprint(paths.inbox / "missing") == inbox_fingerprint(paths.inbox / "also_missing")


@pytest.fixture
def bytes_names_supported(tmp_path):
    try:
        (tmp_path / os.fsdecode(b"probe\xff")).write_bytes(b"")
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")


def test_a_file_name_that_is_not_utf8_lands_under_a_safe_name(tmp_path, bytes_names_supported):
    paths = new_paths(tmp_path)
    inbox = os.fsencode(paths.inbox)
    os.makedirs(inbox + b"/acct", exist_ok=True)
    with open(inbox + b"/acct/Overview\xff.csv", "wb") as handle:  # Latin-1 ÿ, not UTF-8
        handle.write(GOOD)
    os.makedirs(inbox + b"/\xe9quipe", exist_ok=True)  # Latin-1 "équipe": no usable handle
    with open(inbox + b"/\xe9quipe/Overview.csv", "wb") as handle:
        handle.write(_overview(2))

    report = land(paths)

    safe = "acct/Overview\ufffd.csv"
    assert sorted(report.inbox.renamed) == [safe, "\ufffdquipe/Overview.csv"]
    assert query(paths, "select account_handle, video_views from raw.studio_overview") == [("acct", 1)]
    assert sorted(query(paths, "select inbox_path from raw.archive_manifest")) == [
        ("acct/Overview\ufffd.csv",),
        ("\ufffdquipe/Overview.csv",),
    ]
    # the manifest is valid UTF-8 JSON naming the safe paths
    lines = [json.loads(line) for line in paths.manifest.read_bytes().decode("utf-8").splitlines()]
    assert sorted(line["inbox_path"] for line in lines) == ["acct/Overview\ufffd.csv", "\ufffdquipe/Overview.csv"]
    # the folder gives no handle: quarantined with the usual message, not a crash
    assert [(issue.file, issue.rule) for issue in report.issues] == [("Overview.csv", "account_handle")]
    assert len(list(paths.quarantine.glob("*.json"))) == 1
    assert [f.relative for f in walk_inbox(paths.inbox).files] == [safe, "\ufffdquipe/Overview.csv"]
    assert land(paths).files_new == 0, "the safe name is stable: a rerun recognises both files"


def test_a_file_without_an_account_is_told_which_folder_is_no_handle(tmp_path):
    """A folder whose name is no TikTok handle (an accent, a space) and a dated folder at the inbox root are named in
    the reason, with what to do; a file at the root is told to go into an account's folder."""
    paths = new_paths(tmp_path)
    for relative in ("café/Overview.csv", "2026-01-03/Overview.csv", "Overview.csv", "my clients/Overview.csv"):
        drop(paths, relative, _overview(3))
    reasons = {issue.document_id.split(":")[1]: issue for issue in land(paths).issues}
    assert len(reasons) == 4 and {issue.rule for issue in reasons.values()} == {"account_handle"}
    told = sorted(issue.message for issue in reasons.values())
    zip_name = ", or keep TikTok's ZIP name (e.g. Content_<handle>.zip)"
    assert told == [
        "no account handle: put the file in inbox/<handle>/" + zip_name,
        "no account handle: the dated folder '2026-01-03' belongs inside the account's folder "
        "(inbox/<handle>/2026-01-03/)" + zip_name,
        "no account handle: the folder 'café' is not a TikTok handle (letters, digits, '.' and '_', up to 64): "
        "rename it to the account's @handle" + zip_name,
        "no account handle: the folder 'my clients' is not a TikTok handle (letters, digits, '.' and '_', up to 64): "
        "rename it to the account's @handle" + zip_name,
    ]


def test_os_leftovers_inside_a_zip_are_no_documents(tmp_path):
    """A folder zipped by macOS's Compress carries `__MACOSX/._<name>` (resource forks, not CSV) and `.DS_Store`: read,
    they were quarantined as unknown files and counted for good. As in the inbox, they are skipped; the export lands,
    and a ZIP holding only leftovers holds no files."""
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.studio.run_summary import quarantined_now
    from tests.studio_fixtures import studio_zip

    paths = new_paths(tmp_path)
    fork = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "
    when = datetime(2026, 4, 24, 9, 0)
    drop(paths, "acct/exports.zip", studio_zip({
        "exports/Overview.csv": _overview(5), "__MACOSX/exports/._Overview.csv": fork, "exports/.DS_Store": fork,
        "__MACOSX/._exports": fork}, when))  # fmt: skip
    drop(paths, "acct/leftovers.zip", studio_zip({"__MACOSX/._Overview.csv": fork}, when))
    report = land(paths)
    assert query(paths, "select account_handle, video_views from raw.studio_overview") == [("acct", 5)]
    assert query(paths, "select original_name, member_name, status from raw.documents order by 1") == [
        ("exports.zip", "exports/Overview.csv", "loaded"),
        ("leftovers.zip", "", "quarantined"),
    ]
    assert [(issue.file, issue.rule, issue.message) for issue in report.issues] == [
        ("leftovers.zip", "not_empty", "the ZIP holds no files")
    ]
    with connect(paths.warehouse, read_only=True) as con:
        assert len(quarantined_now(con)) == 1


@pytest.mark.parametrize(
    "seconds",
    [10_413_792_000, -10_000_000_000],  # 2300-01-01 (1.04e19 ns) and 1653-02-10 (-1e19 ns): beyond 64-bit nanoseconds
)
def test_a_file_dated_beyond_64_bit_nanoseconds_is_refused_by_name_the_rest_lands_and_touching_it_lands_it(
    tmp_path, monkeypatch, seconds
):
    """A modification time whose nanoseconds do not fit in 64 bits (`touch -d 2300-01-01`) stopped every landing of
    the inbox: the file is refused with its reason, the others land, and once it has a real date it lands too, its
    folder never cached meanwhile (the fix changes the file, not the folder's stamp; a date in the future keeps the
    folder unsettled anyway, one before 1677 would not)."""
    from orchestration.lib.core import inbox
    from orchestration.lib.core.inbox import REFUSED_TIME

    monkeypatch.setattr(inbox, "SETTLE_NS", 0)  # folders count as settled at once: cacheable but for this file
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    odd = drop(paths, "acct/Overview (1).csv", _overview(2))
    try:
        os.utime(odd, (seconds, seconds))
    except (OSError, OverflowError):
        pytest.skip("this file system cannot store such a date")
    if odd.stat().st_mtime_ns in range(-(2**63), 2**63):
        pytest.skip("this file system cannot store such a date")

    for _ in range(2):  # again: the folder was not cached with the refused file in it
        report = land(paths)
        assert report.inbox.refused == [("acct/Overview (1).csv", REFUSED_TIME)]
        assert query(paths, "select video_views from raw.studio_overview") == [(1,)]
    assert query(paths, "select folder from landing.inbox_folders") == [(b"",)]

    os.utime(odd, (1_743_508_800, 1_743_508_800))  # 2025-04-01 12:00 UTC: in place, the folder's stamp unchanged
    report = land(paths)
    assert report.inbox.refused == [] and report.files_new == 1
    assert sorted(query(paths, "select video_views from raw.studio_overview")) == [(1,), (2,)]
