"""A bare file dropped in the wrong account's folder and moved where it belongs counts for that account only, in the
landing and in a replay (`orchestration/lib/studio/moved_files.py`); a copy, or the same bytes downloaded again,
is no move."""

import os
import shutil
from datetime import UTC, datetime

import duckdb

from orchestration.cli_summary import print_run
from orchestration.defs.studio import record_build_window
from orchestration.lib.core.warehouse import connect
from orchestration.lib.live.landing import LiveSource
from orchestration.lib.studio.landing import land_inbox, replay_archive
from tests.dbt_runner import mart_tables, planned_build
from tests.studio_fixtures import drop, new_paths, studio_csv

VIEWERS = ("Date", "Total Viewers", "New Viewers", "Returning Viewers")
GENDER = ("Gender", "Distribution")
NOON = datetime(2025, 3, 5, 12, 0)  # the bare files' mtime: their export day is 2025-03-05
# @a's viewers, first saved in @b's folder
A_VIEWERS = studio_csv(VIEWERS, [["March 1", "30", "20", "10"], ["March 2", "12", "7", "5"]])


def _build(paths, target, dbt, *, land: bool = True):
    """Land (unless `land` is false), then the dbt build Dagster plans."""
    if land:
        with connect(paths.warehouse) as con:
            record_build_window(con, land_inbox(paths, con, sources=[LiveSource()]))
    return planned_build(paths, dbt, target)


def _counted(paths) -> tuple:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        viewers = con.execute(
            "select account_handle, metric_date::varchar, total_viewers from marts.fct_account_overview_daily "
            "where total_viewers is not null order by all"
        ).fetchall()
        accounts = con.execute("select account_handle, documents_loaded from marts.dim_accounts order by 1").fetchall()
        statuses = con.execute("select account_handle, file_kind, status from raw.documents order by all").fetchall()
    return viewers, accounts, statuses


def test_a_bare_file_moved_to_another_accounts_folder_counts_there_only_and_a_replay_agrees(tmp_path, dbt, capsys):
    paths = new_paths(tmp_path)
    target = tmp_path / "target"
    drop(paths, "b/Viewers.csv", A_VIEWERS, NOON)  # misfiled
    drop(paths, "b/FollowerGender.csv", studio_csv(GENDER, [["Female", "0.6"], ["Male", "0.4"]]), NOON)
    _build(paths, target, dbt)
    assert _counted(paths) == (
        [("b", "2025-03-01", 30), ("b", "2025-03-02", 12)],
        [("b", 2)],
        [("b", "follower_gender", "loaded"), ("b", "viewers", "loaded")],
    )

    os.rename(paths.inbox / "b" / "Viewers.csv", (paths.inbox / "a").mkdir() or paths.inbox / "a" / "Viewers.csv")
    since = datetime.now(UTC).replace(tzinfo=None)
    build = _build(paths, target, dbt)
    assert "--full-refresh" in build.args, "a withdrawn day leaves an incremental mart only by a full refresh"
    moved = (
        [("a", "2025-03-01", 30), ("a", "2025-03-02", 12)],  # @b keeps no viewers: they were never @b's
        [("a", 1), ("b", 1)],
        [("a", "viewers", "loaded"), ("b", "follower_gender", "loaded"), ("b", "viewers", "moved")],
    )
    assert _counted(paths) == moved
    print_run(paths, since)
    out = capsys.readouterr().out
    assert (
        "Moved to another account's folder: 1 (counted for that account only now)\n"
        "  b/Viewers.csv (@b) → a/Viewers.csv (@a), 2025-03-01 → 2025-03-02\n"
    ) in out
    assert "@a: 1 file(s), covering 2025-03-01 → 2025-03-02 (2 days)" in out
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.studio_viewers").fetchone() == (1 * 2,)

    # a run with nothing new withdraws nothing again; the next run's summary names no move
    published = mart_tables(paths)
    since = datetime.now(UTC).replace(tzinfo=None)
    assert "--full-refresh" not in _build(paths, target, dbt).args
    print_run(paths, since)
    assert "Moved to another" not in capsys.readouterr().out and mart_tables(paths) == published

    # the archive alone says the same: a replay withdraws the same receipt, the marts identical
    shutil.rmtree(paths.root / "warehouse")
    with connect(paths.warehouse) as con:
        replay_archive(paths, con, sources=[LiveSource()])
    _build(paths, target, dbt, land=False)
    assert _counted(paths) == moved and mart_tables(paths) == published


def test_a_copy_or_the_same_bytes_downloaded_again_for_another_account_is_no_move(tmp_path, dbt):
    """Two accounts' identical files are no move while both are in place: in one drop, in two runs with the same time
    (a copy that kept it: `cp -p`, a file manager; two accounts' header-only files unzipped in one second; review),
    copied with a new time (`cp`, a new download), or moved where the later copy did not load (a Content file whose
    links name the account it left: quarantined where it went)."""
    paths = new_paths(tmp_path)
    target = tmp_path / "target"
    gender = studio_csv(GENDER, [["Female", "0.5"], ["Male", "0.5"]])
    drop(paths, "a/FollowerGender.csv", gender, NOON)
    drop(paths, "b/FollowerGender.csv", gender, NOON)  # the same bytes and time, one drop
    drop(paths, "c/Viewers.csv", A_VIEWERS, NOON)
    drop(paths, "f/FollowerGender.csv", studio_csv(GENDER, []), NOON)  # header-only, as small accounts get it
    header = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares")
    link = "https://www.tiktok.com/@c/video/7546034661705796870"
    content = studio_csv((*header, "Total views"), [["March 5", "clip", link, "March 1", "1", "0", "0", "10"]])
    drop(paths, "c/Content.csv", content, NOON)
    _build(paths, target, dbt)
    drop(paths, "d/Viewers.csv", A_VIEWERS, datetime(2025, 3, 6, 9, 0))  # the same bytes, downloaded again
    (paths.inbox / "g").mkdir()
    shutil.copy2(paths.inbox / "c" / "Viewers.csv", paths.inbox / "g" / "Viewers.csv")  # a copy keeping its time
    drop(paths, "h/FollowerGender.csv", studio_csv(GENDER, []), NOON)  # another small account's, the same second
    os.rename(paths.inbox / "c" / "Content.csv", (paths.inbox / "e").mkdir() or paths.inbox / "e" / "Content.csv")
    assert "--full-refresh" not in _build(paths, target, dbt).args
    viewers, accounts, statuses = _counted(paths)
    expected = [(handle, day, n) for handle in "cdg" for day, n in (("2025-03-01", 30), ("2025-03-02", 12))]
    assert viewers == expected
    assert "moved" not in {status for *_, status in statuses} and not (paths.archive / "moves.jsonl").exists()
    assert ("c", "content", "loaded") in statuses and ("e", "content", "quarantined") in statuses
    assert {handle for handle, _ in accounts} >= {"a", "b", "c", "d", "f", "g", "h"}


def test_moved_on_then_back_counts_where_the_file_is_and_the_summary_tells_each_move_once(tmp_path, dbt, capsys):
    """@a's Viewers moved to @b, then to @c, then back to @a (its first place: a receipt the archive knew, which the
    scan skipped as known and nothing counted for @a again; review). Each run's summary names its own move only."""
    paths = new_paths(tmp_path)
    target = tmp_path / "target"
    drop(paths, "a/Viewers.csv", A_VIEWERS, NOON)
    _build(paths, target, dbt)
    told = []
    for here, there in (("a", "b"), ("b", "c"), ("c", "a")):
        (paths.inbox / there).mkdir(exist_ok=True)
        os.rename(paths.inbox / here / "Viewers.csv", paths.inbox / there / "Viewers.csv")
        since = datetime.now(UTC).replace(tzinfo=None)
        _build(paths, target, dbt)
        viewers, _, _ = _counted(paths)
        assert {handle for handle, *_ in viewers} == {there}, (here, there)
        print_run(paths, since)
        told.append([line for line in capsys.readouterr().out.splitlines() if "Viewers.csv (@" in line])
    assert told == [
        ["  a/Viewers.csv (@a) → b/Viewers.csv (@b), 2025-03-01 → 2025-03-02"],
        ["  b/Viewers.csv (@b) → c/Viewers.csv (@c), 2025-03-01 → 2025-03-02"],
        ["  c/Viewers.csv (@c) → a/Viewers.csv (@a), 2025-03-01 → 2025-03-02"],
    ]
    published = mart_tables(paths)
    shutil.rmtree(paths.root / "warehouse")  # the archive's decisions, not the inbox, rebuild the same
    with connect(paths.warehouse) as con:
        replay_archive(paths, con, sources=[LiveSource()])
    _build(paths, target, dbt, land=False)
    assert mart_tables(paths) == published


def test_a_garbled_line_of_moves_jsonl_is_told_and_its_move_no_longer_applies(tmp_path, capsys):
    """moves.jsonl damaged (an edit, a bad disk): the landing can no longer apply that move, so the file counts for
    both accounts again. The run summary says so, naming the file, on every run until it is repaired."""
    paths = new_paths(tmp_path)

    def land():
        with connect(paths.warehouse) as con:
            land_inbox(paths, con, sources=[LiveSource()])
            counted = "select account_handle, count(*) from raw.studio_viewers group by 1 order by 1"
            return con.execute(counted).fetchall()

    drop(paths, "b/Viewers.csv", A_VIEWERS, NOON)
    land()
    os.rename(paths.inbox / "b" / "Viewers.csv", (paths.inbox / "a").mkdir() or paths.inbox / "a" / "Viewers.csv")
    assert land() == [("a", 2)]
    moves = paths.archive / "moves.jsonl"
    line = moves.read_bytes()
    moves.write_bytes(b'{"decided_at": "2025-03-05T12:00:00", "sha256": ' + b"\n" + line)  # a garbled line first
    since = datetime.now(UTC).replace(tzinfo=None)
    assert land() == [("a", 2)], "an unreadable line beside a readable one loses nothing"
    print_run(paths, since)
    told = capsys.readouterr().out
    assert f"1 torn or unreadable line(s) of {moves} skipped" in told

    moves.write_bytes(line[: len(line) // 2] + b"\n")  # the move's own line garbled
    since = datetime.now(UTC).replace(tzinfo=None)
    assert land() == [("a", 2), ("b", 2)], "the move is no longer known: the file counts for both accounts"
    print_run(paths, since)
    assert f"1 torn or unreadable line(s) of {moves} skipped" in capsys.readouterr().out
