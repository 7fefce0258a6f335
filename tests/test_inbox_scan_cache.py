"""A scan costs what is new: a folder unchanged since it was cached is not listed again and its files are
not stat'ed; anything added, removed or renamed in it is seen; a known file rewritten in place there is
seen by a full scan (TIKTOK_FULL_SCAN=1, or the first landing TIKTOK_FULL_SCAN_DAYS days after the last
full scan), and a folder holding a quarantined file is never cached, so a corrected file dropped over it is
always seen."""

import os
from datetime import datetime, timedelta

import pytest

from orchestration.lib.core import inbox
from orchestration.lib.core.inbox import walk_inbox
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv
from tests.test_inbox_hygiene import _build_inbox

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")


def _overview(views: int) -> bytes:
    return studio_csv(OVERVIEW, [["April 1", str(views), "0", "0", "0", "0"]])


@pytest.fixture
def settled_now(monkeypatch):
    """Folders count as settled at once (a test cannot age a folder's ctime by 2 s without waiting)."""
    monkeypatch.setattr(inbox, "SETTLE_NS", 0)


@pytest.fixture
def settling_ten_minutes(monkeypatch):
    """Folders changed in the last 10 minutes are not settled: a stall of 2 s between a test's drop and the walk's
    clock must not settle them (with the real 2 s it did)."""
    monkeypatch.setattr(inbox, "SETTLE_NS", 600 * 10**9)


@pytest.fixture
def listed(monkeypatch):
    """The folders the walk lists (scandir), by inbox-relative path."""
    folders = []
    real_scandir = os.scandir

    def counting(path):
        folders.append(os.path.relpath(path, inbox_root[0]).replace(os.sep, "/"))
        return real_scandir(path)

    inbox_root = []
    monkeypatch.setattr(inbox.os, "scandir", counting)
    return folders, inbox_root


def _listed_paths(tmp_path, listed):
    """A new data directory whose inbox the `listed` fixture's folders are relative to."""
    folders, root = listed
    paths = new_paths(tmp_path)
    root.append(str(paths.inbox))
    return folders, paths


def _age(paths) -> None:
    """Date every inbox folder a day back, so a change made within the same timestamp tick as the drop
    still changes its stamp (in real use, SETTLE_NS keeps such folders out of the cache)."""
    day_ago = os.stat(paths.inbox).st_mtime - 86_400
    for folder in [paths.inbox, *(p for p in paths.inbox.rglob("*") if p.is_dir() and not p.is_symlink())]:
        os.utime(folder, (day_ago, day_ago))


def _views(paths) -> list[tuple]:
    return sorted(query(paths, "select account_handle, video_views from raw.studio_overview"))


def test_a_rerun_lists_no_folder_and_a_new_file_lists_only_its_folder(tmp_path, settled_now, listed):
    folders, paths = _listed_paths(tmp_path, listed)
    for handle in ("ana", "bo"):
        for day in ("2026-04-01", "2026-04-02"):
            drop(paths, f"{handle}/{day}/Overview.csv", _overview(len(handle) * 10 + int(day[-1])))
    _age(paths)
    folders.clear()
    land(paths)
    assert sorted(folders) == [".", "ana", "ana/2026-04-01", "ana/2026-04-02", "bo", "bo/2026-04-01", "bo/2026-04-02"]

    folders.clear()
    report = land(paths)
    assert folders == [] and report.files_seen == 4 and report.files_new == 0

    drop(paths, "bo/2026-04-03/Overview.csv", _overview(99))  # a new day folder: bo/ changes, not ana/
    folders.clear()
    report = land(paths)
    assert sorted(folders) == ["bo", "bo/2026-04-03"]
    assert report.files_seen == 5 and report.files_new == 1
    assert ("bo", 99) in _views(paths)


def test_a_cached_walk_says_exactly_what_a_full_walk_says(tmp_path, settled_now):
    paths = _build_inbox(tmp_path)  # litter, links, a FIFO, hidden folders
    _age(paths)
    first = walk_inbox(paths.inbox)
    again = walk_inbox(paths.inbox, first.folders)
    assert all(not listing.listed for listing in again.folders.values())
    assert [(f.relative, f.size, f.mtime_ns, f.os_path) for f in again.files] == [
        (f.relative, f.size, f.mtime_ns, f.os_path) for f in first.files
    ]
    assert (again.ignored, again.refused, again.renamed) == (first.ignored, first.refused, first.renamed)
    assert all(f.unchanged for f in again.files) and not any(f.unchanged for f in first.files)


def test_entries_added_removed_or_replaced_in_a_cached_folder_are_seen(tmp_path, settled_now):
    paths = new_paths(tmp_path)
    kept = drop(paths, "acct/Overview.csv", _overview(1))
    replaced = drop(paths, "acct/Viewers.csv", b"old")
    removed = drop(paths, "acct/Content.csv", b"gone soon")
    _age(paths)
    first = walk_inbox(paths.inbox)

    removed.unlink()
    (tmp_path / "new.csv").write_bytes(b"new bytes")
    os.replace(tmp_path / "new.csv", replaced)  # a new inode at a known name (what Finder's "Replace" does)
    os.symlink(kept, paths.inbox / "acct" / "Link.csv")
    again = walk_inbox(paths.inbox, first.folders)

    assert again.folders["acct/"].listed
    assert [(f.relative, f.size, f.unchanged) for f in again.files] == [
        ("acct/Overview.csv", kept.stat().st_size, True),  # the cache knew it with this size and mtime
        ("acct/Viewers.csv", len(b"new bytes"), False),
    ]
    assert again.refused == [("acct/Link.csv", inbox.REFUSED_LINK)]


def test_a_known_file_rewritten_in_place_in_a_cached_folder_is_seen_by_a_full_scan(tmp_path, settled_now, monkeypatch):
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")  # the in-place write below needs the archive's own copy
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    land(paths)
    land(paths)  # the folder is cached now
    # (archived by a copy, so the in-place write below leaves the archive alone)
    drop(paths, "acct/Overview.csv", _overview(2))  # `cp` over it: same inode, the folder's stamp unchanged

    assert land(paths).files_new == 0, "the documented trade-off: the cached folder vouches for its files"
    assert _views(paths) == [("acct", 1)]
    monkeypatch.setenv("TIKTOK_FULL_SCAN", "1")
    assert land(paths).files_new == 1
    assert _views(paths) == [("acct", 1), ("acct", 2)], "a second receipt at the path (the newest export wins)"


def _last_full_scan(paths) -> list[tuple]:
    return query(paths, "select scanned_at from landing.inbox_full_scan")


def _move_last_full_scan(paths, days: float) -> None:
    from orchestration.lib.core.warehouse import connect

    with connect(paths.warehouse) as con:
        con.execute(f"update landing.inbox_full_scan set scanned_at = scanned_at + interval ({days} * 86400) second")


def test_a_file_rewritten_in_place_is_seen_by_the_first_landing_a_week_after_the_last_full_scan(
    tmp_path, settled_now, listed, monkeypatch
):
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")  # the in-place write below needs the archive's own copy
    folders, paths = _listed_paths(tmp_path, listed)
    drop(paths, "acct/Overview.csv", _overview(1))
    first = land(paths)  # no folder cache yet: a full scan, recorded
    assert first.full_scan and len(_last_full_scan(paths)) == 1
    recorded = _last_full_scan(paths)
    assert not land(paths).full_scan and _last_full_scan(paths) == recorded  # cached now; the record stays
    drop(paths, "acct/Overview.csv", _overview(2))  # `cp` over it: same inode, the folder's stamp unchanged

    _move_last_full_scan(paths, -6.9)  # not a week yet
    folders.clear()
    report = land(paths)
    assert (report.full_scan, report.files_new, folders) == (False, 0, [])
    assert _views(paths) == [("acct", 1)]

    _move_last_full_scan(paths, -0.2)  # 7.1 days ago
    folders.clear()
    report = land(paths)
    assert (report.full_scan, report.files_new) == (True, 1) and sorted(folders) == [".", "acct"]
    assert _views(paths) == [("acct", 1), ("acct", 2)]
    (scanned_at,), (before,) = _last_full_scan(paths), recorded
    assert scanned_at > before

    folders.clear()
    report = land(paths)  # the week starts again
    assert (report.full_scan, report.files_new, folders) == (False, 0, [])


def test_a_last_full_scan_later_than_now_is_taken_for_a_clock_set_back(tmp_path, settled_now):
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    land(paths)
    _move_last_full_scan(paths, 1)  # recorded tomorrow: the clock went back since
    assert land(paths).full_scan
    assert not land(paths).full_scan


@pytest.mark.parametrize(
    ("days", "last_scan_age", "due"),
    [
        (7, timedelta(days=7), True),  # exactly a week: "7 days old or more"
        (7, timedelta(days=7) - timedelta(microseconds=1), False),
        (7, timedelta(0), False),  # recorded this very instant
        (7, -timedelta(microseconds=1), True),  # a microsecond ahead: the clock was set back
        (0, timedelta(0), True),  # 0 days: every landing, even one at the same instant
        (1, timedelta(hours=23, minutes=59), False),
    ],
)
def test_a_full_scan_is_due_from_exactly_the_set_number_of_days(tmp_path, monkeypatch, days, last_scan_age, due):
    """The boundary the landings above cannot pin (their clock moves): `_full_scan_due` at a fixed `now`."""
    from orchestration.lib.core.receipts import _full_scan_due
    from orchestration.lib.core.warehouse import connect

    monkeypatch.delenv("TIKTOK_FULL_SCAN", raising=False)
    now = datetime(2026, 3, 1, 6, 0, 0, 500_000)
    with connect(new_paths(tmp_path).warehouse) as con:
        assert _full_scan_due(con, now, days)  # no full scan recorded yet
        con.execute("insert into landing.inbox_full_scan values (?)", [now - last_scan_age])
        assert _full_scan_due(con, now, days) is due


def test_full_scan_days_sets_how_often_and_a_bad_value_is_refused_before_anything_is_stored(
    tmp_path, settled_now, monkeypatch
):
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    land(paths)
    monkeypatch.setenv("TIKTOK_FULL_SCAN_DAYS", "0")
    assert land(paths).full_scan and land(paths).full_scan
    monkeypatch.setenv("TIKTOK_FULL_SCAN_DAYS", "30")
    _move_last_full_scan(paths, -29)
    assert not land(paths).full_scan
    monkeypatch.setenv("TIKTOK_FULL_SCAN_DAYS", "36500")  # "almost never": no date arithmetic overflows
    assert not land(paths).full_scan
    monkeypatch.setenv("TIKTOK_FULL_SCAN", "1")  # asked for, whatever the days
    assert land(paths).full_scan
    for bad in ("-1", "a week", "1.5", "²", "36501", "1000000000"):
        monkeypatch.setenv("TIKTOK_FULL_SCAN_DAYS", bad)
        drop(paths, "acct/Viewers.csv", b"not landed")
        with pytest.raises(ValueError, match=r"TIKTOK_FULL_SCAN_DAYS=.*whole number of days from 0 .* to 36,500"):
            land(paths)
        assert query(paths, "select count(*) from raw.archive_manifest") == [(1,)]


def test_a_folder_holding_a_quarantined_file_is_never_cached_so_a_correction_in_place_is_seen(tmp_path, settled_now):
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    drop(paths, "acct/2026-04-02/Overview.csv", studio_csv(OVERVIEW, [["April 1", "many", "0", "0", "0", "0"]]))
    land(paths)
    land(paths)
    cached = {bytes(key).decode() for (key,) in query(paths, "select folder from landing.inbox_folders")}
    assert cached == {"", "acct/"}, "the folder with the quarantined file is listed every time"

    drop(paths, "acct/2026-04-02/Overview.csv", _overview(5))  # corrected in place
    assert land(paths).files_new == 1
    assert _views(paths) == [("acct", 1), ("acct", 5)]
    _age(paths)
    land(paths)
    cached = {bytes(key).decode() for (key,) in query(paths, "select folder from landing.inbox_folders")}
    assert cached == {"", "acct/", "acct/2026-04-02/"}


def test_folders_changed_in_the_last_two_seconds_are_not_cached(tmp_path, settling_ten_minutes):
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    land(paths)
    assert query(paths, "select count(*) from landing.inbox_folders") == [(0,)]


def test_a_file_not_read_this_time_keeps_its_folder_uncached(tmp_path, settled_now, monkeypatch):
    from orchestration.lib.core import archive_batch

    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    real_open = os.open

    def busy(path, flags, *args):
        if str(path).endswith("Overview.csv"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(archive_batch.os, "open", busy)
    assert land(paths).files_new == 0
    monkeypatch.setattr(archive_batch.os, "open", real_open)
    cached = {bytes(key).decode() for (key,) in query(paths, "select folder from landing.inbox_folders")}
    assert cached == {""}
    assert land(paths).files_new == 1 and _views(paths) == [("acct", 1)]


def test_a_lost_file_cache_ignores_the_folder_cache(tmp_path, settled_now):
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    land(paths)
    land(paths)
    from orchestration.lib.core.warehouse import connect

    with connect(paths.warehouse) as con:
        con.execute("delete from landing.inbox_files")
    assert land(paths).files_new == 0, "hashed again, the receipt is known"
    assert query(paths, "select count(*) from landing.inbox_files") == [(1,)]


def test_the_sensor_lists_only_folders_changed_since_its_last_walk_and_sees_what_an_uncached_walk_sees(
    tmp_path, settled_now, listed
):
    from orchestration.defs.automation import inbox_fingerprint

    folders, paths = _listed_paths(tmp_path, listed)
    for handle in ("ana", "bo"):
        drop(paths, f"{handle}/2026-04-01/Overview.csv", _overview(len(handle)))
    _age(paths)
    kept: dict = {}
    folders.clear()
    first = inbox_fingerprint(paths.inbox, kept)
    assert sorted(folders) == [".", "ana", "ana/2026-04-01", "bo", "bo/2026-04-01"]
    assert first == inbox_fingerprint(paths.inbox)

    folders.clear()
    assert inbox_fingerprint(paths.inbox, kept) == first and folders == []  # nothing listed again

    drop(paths, "bo/2026-04-01/Viewers.csv", b"new")  # a new file: its folder's stamp changes
    folders.clear()
    added = inbox_fingerprint(paths.inbox, kept)
    assert folders == ["bo/2026-04-01"] and added != first and added == inbox_fingerprint(paths.inbox)

    (paths.inbox / "ana" / "2026-04-01" / "Overview.csv").unlink()
    removed = inbox_fingerprint(paths.inbox, kept)
    assert removed not in (first, added) and removed == inbox_fingerprint(paths.inbox)


def test_the_sensor_keeps_no_folder_changed_in_the_last_two_seconds(tmp_path, listed, settling_ten_minutes):
    from orchestration.defs.automation import inbox_fingerprint

    folders, paths = _listed_paths(tmp_path, listed)
    drop(paths, "acct/Overview.csv", _overview(1))
    kept: dict = {}
    inbox_fingerprint(paths.inbox, kept)
    assert kept == {str(paths.inbox): {}}
    folders.clear()
    inbox_fingerprint(paths.inbox, kept)
    assert sorted(folders) == [".", "acct"]


def test_the_inbox_sensor_keeps_its_folders_between_evaluations(tmp_path, settled_now, monkeypatch):
    import dagster as dg

    from orchestration.defs import automation
    from orchestration.defs.resources import DataDirResource

    monkeypatch.setattr(automation, "_sensor_folders", {})
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", _overview(1))
    _age(paths)
    resources = {"data_dir": DataDirResource(data_dir=str(paths.root))}
    with dg.build_sensor_context(resources=resources) as context:
        request = automation.inbox_sensor(context)
        assert isinstance(request, dg.RunRequest)
        assert request.run_key == automation.inbox_fingerprint(paths.inbox)
        assert set(automation._sensor_folders[str(paths.inbox)]) == {"", "acct/"}
        assert isinstance(automation.inbox_sensor(context), dg.SkipReason)  # the same files: no run


def test_the_sensor_lists_a_folder_holding_a_quarantined_file_so_a_correction_in_place_starts_a_run(
    tmp_path, settled_now, listed
):
    from orchestration.defs.automation import inbox_fingerprint

    folders, paths = _listed_paths(tmp_path, listed)
    drop(paths, "acct/Overview.csv", _overview(1))
    bad = drop(paths, "acct/2026-04-02/Overview.csv", studio_csv(OVERVIEW, [["April 1", "many", "0", "0", "0", "0"]]))
    land(paths)  # quarantined: its report names acct/2026-04-02/Overview.csv
    _age(paths)
    kept: dict = {}
    before = inbox_fingerprint(paths.inbox, kept, paths.quarantine)
    assert set(kept[str(paths.inbox)]) == {"", "acct/"}
    inode = bad.stat().st_ino
    drop(paths, "acct/2026-04-02/Overview.csv", _overview(5))  # corrected in place: the folder's stamp unchanged
    assert bad.stat().st_ino == inode
    folders.clear()
    after = inbox_fingerprint(paths.inbox, kept, paths.quarantine)
    inbox_folders = [folder for folder in folders if not folder.startswith("..")]  # (the quarantine's listing too)
    assert inbox_folders == ["acct/2026-04-02"] and after != before and after == inbox_fingerprint(paths.inbox)

    # a report naming no inbox path (written before reports did): no folder is kept
    (paths.quarantine / "old_report.json").write_text('{"file": "Overview.csv", "inbox_path": null}')
    inbox_fingerprint(paths.inbox, kept, paths.quarantine)
    assert kept[str(paths.inbox)] == {}


def test_files_hashed_before_with_the_same_size_and_mtime_are_skipped_and_the_rest_keep_their_order(tmp_path):
    """What the scan hashes: a known path with another size or mtime (touched, rewritten) or an unknown path; a
    known path, size and mtime is not read again."""
    from orchestration.lib.core.receipts import _not_seen_before
    from orchestration.lib.core.warehouse import connect

    paths = new_paths(tmp_path)
    walked = [
        inbox.InboxFile("/x/a.csv", "a.csv", 10, 1_000),  # known as it is
        inbox.InboxFile("/x/b.csv", "b.csv", 11, 2_000),  # known with another mtime: touched
        inbox.InboxFile("/x/c.csv", "c.csv", 12, 3_000),  # never hashed
        inbox.InboxFile("/x/d.csv", "d.csv", 99, 4_000),  # known with another size
        inbox.InboxFile("/x/é/e.csv", "é/e.csv", 5, 5_000),  # known as it is, a non-ASCII path
    ]
    with connect(paths.warehouse) as con:
        con.executemany(
            "insert into landing.inbox_files values (?, ?, ?, ?)",
            [
                ("a.csv", 10, 1_000, "sha-a"),
                ("b.csv", 11, 1_999, "sha-b"),
                ("d.csv", 13, 4_000, "sha-d"),
                ("é/e.csv", 5, 5_000, "sha-e"),
            ],
        )
        assert [f.relative for f in _not_seen_before(con, walked)] == ["b.csv", "c.csv", "d.csv"]
        assert _not_seen_before(con, walked[:1] + walked[4:]) == [] and _not_seen_before(con, []) == []


def test_the_files_not_hashed_before_come_back_in_walk_order_from_a_large_parallel_anti_join(tmp_path):
    """The landing hashes and lands new files in walk (path) order; DuckDB's parallel anti-join answers out of order
    at this size without its `order by`."""
    import pyarrow as pa

    from orchestration.lib.core.receipts import _not_seen_before
    from orchestration.lib.core.warehouse import connect

    paths = new_paths(tmp_path)
    walked = [inbox.InboxFile(f"/x/{n:06d}.csv", f"{n:06d}.csv", n, n) for n in range(300_000)]
    known = [f for n, f in enumerate(walked) if n % 7]  # every 7th file never hashed
    with connect(paths.warehouse) as con:
        con.execute("set threads = 2")  # out of order from 300,000 rows on 2 threads or more (DuckDB 2.0)
        fields = {"inbox_path": "relative", "size_bytes": "size", "mtime_ns": "mtime_ns"}  # column: InboxFile field
        con.register("known", pa.table({column: [getattr(f, name) for f in known] for column, name in fields.items()}))
        con.execute("insert into landing.inbox_files select *, 'x' as sha256 from known")
        assert _not_seen_before(con, walked) == walked[::7]
