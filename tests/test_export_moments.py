"""What a file's own time says of its export: two downloads saved in one dated folder on its day are told apart by
their times, and a copy of bytes already received (a new modification time) is dated as they first were, in a landing
and in a replay (`orchestration/lib/core/receipt_moments.py`)."""

import os
import shutil
from datetime import datetime

import duckdb
import pytest

from orchestration.lib.core.warehouse import connect
from orchestration.lib.live.landing import LiveSource
from orchestration.lib.studio.landing import replay_archive
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv
from tests.test_moved_files import _build

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
GENDER = ("Gender", "Distribution")


def _views(paths) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(
            "select metric_date::varchar, video_views from marts.fct_account_overview_daily order by 1"
        ).fetchall()


@pytest.mark.parametrize("later", ["Overview.csv", "Overview (1).csv"])
def test_two_downloads_in_one_dated_folder_on_its_day_the_later_one_wins(tmp_path, dbt, later):
    """Both were exported at the folder's midnight, and their ids' hashes chose (LIVE review): the later download's
    figures win, whichever of the two names it has."""
    paths = new_paths(tmp_path)
    earlier = "Overview (1).csv" if later == "Overview.csv" else "Overview.csv"
    drop(paths, f"a/2025-03-05/{earlier}", studio_csv(OVERVIEW, [["March 4", "10", "0", "0", "0", "0"]]),
         datetime(2025, 3, 5, 10, 0))  # fmt: skip
    drop(paths, f"a/2025-03-05/{later}", studio_csv(OVERVIEW, [["March 4", "20", "0", "0", "0", "0"]]),
         datetime(2025, 3, 5, 10, 5))  # fmt: skip
    _build(paths, tmp_path / "target", dbt)
    assert _views(paths) == [("2025-03-04", 20)]
    # a correction saved over the earlier one three days later (its time held to the folder's day: its last moment)
    drop(paths, f"a/2025-03-05/{earlier}", studio_csv(OVERVIEW, [["March 4", "25", "0", "0", "0", "0"]]),
         datetime(2025, 3, 8, 9, 0))  # fmt: skip
    _build(paths, tmp_path / "target", dbt)
    assert _views(paths) == [("2025-03-04", 25)]


def test_a_copy_of_a_file_already_received_is_dated_as_it_first_was_in_a_landing_and_a_replay(tmp_path, dbt):
    """`cp` gives old bytes a new time: the copy of the 5 March Overview dated TikTok's old figures 1 June, and they
    beat the revised 6 March download; a copied gender file made a snapshot on a day no export describes."""
    paths = new_paths(tmp_path)
    target = tmp_path / "target"
    first = drop(paths, "a/Overview.csv", studio_csv(OVERVIEW, [["March 4", "10", "0", "0", "0", "0"]]),
                 datetime(2025, 3, 5, 9, 0))  # fmt: skip
    drop(
        paths,
        "a/Overview (1).csv",
        studio_csv(OVERVIEW, [["March 4", "12", "0", "0", "0", "0"], ["March 5", "30", "0", "0", "0", "0"]]),
        datetime(2025, 3, 6, 9, 0),
    )  # fmt: skip  (TikTok revised 4 March)
    drop(paths, "a/FollowerGender.csv", studio_csv(GENDER, [["Female", "0.6"], ["Male", "0.4"]]),
         datetime(2025, 3, 5, 9, 0))  # fmt: skip
    _build(paths, target, dbt)
    assert _views(paths) == [("2025-03-04", 12), ("2025-03-05", 30)]

    for name, copy in (("Overview.csv", "Overview (2).csv"), ("FollowerGender.csv", "FollowerGender (1).csv")):
        shutil.copyfile(paths.inbox / "a" / name, paths.inbox / "a" / copy)  # a new modification time: now
        assert os.stat(paths.inbox / "a" / copy).st_mtime > first.stat().st_mtime + 86400
    _build(paths, target, dbt)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        snapshots = con.execute(
            "select distinct snapshot_date::varchar from marts.fct_follower_gender_snapshot"
        ).fetchall()
        exports = con.execute("select original_name, export_date::varchar from raw.documents order by 1").fetchall()
    assert _views(paths) == [("2025-03-04", 12), ("2025-03-05", 30)]
    assert snapshots == [("2025-03-05",)]
    assert exports == [
        ("FollowerGender (1).csv", "2025-03-05"),
        ("FollowerGender.csv", "2025-03-05"),
        ("Overview (1).csv", "2025-03-06"),
        ("Overview (2).csv", "2025-03-05"),
        ("Overview.csv", "2025-03-05"),
    ]

    shutil.rmtree(paths.root / "warehouse")  # the archive alone dates them the same
    with connect(paths.warehouse) as con:
        replay_archive(paths, con, sources=[LiveSource()])
        assert con.execute("select original_name, export_date::varchar from raw.documents order by 1").fetchall() == (
            exports
        )
    _build(paths, target, dbt, land=False)
    assert _views(paths) == [("2025-03-04", 12), ("2025-03-05", 30)]


def test_the_same_bytes_in_another_account_s_folder_are_that_account_s_own_export(tmp_path):
    """@b's download holding the same bytes as @a's (a small account's identical distribution) was dated by @a's
    older time: @b got a snapshot before it had any export (review). The earliest time is looked for in the same
    top folder only."""
    paths = new_paths(tmp_path)
    same = studio_csv(GENDER, [["Female", "0.55"], ["Male", "0.45"]])
    drop(paths, "a/FollowerGender.csv", same, datetime(2025, 3, 1, 9, 0))
    land(paths)
    drop(paths, "b/FollowerGender.csv", same, datetime(2025, 3, 10, 9, 0))
    drop(paths, "a/FollowerGender (1).csv", same, datetime(2025, 3, 12, 9, 0))  # @a's copy: dated as its first
    land(paths)
    receipt = "m.sha256 || ':' || left(sha256(m.inbox_path), 12) || ':'"
    assert query(paths, f"""select m.inbox_path, d.export_date::varchar from raw.documents d
                 join raw.archive_manifest m on left(d.document_id, 78) = {receipt} order by 1""") == [
        ("a/FollowerGender (1).csv", "2025-03-01"),
        ("a/FollowerGender.csv", "2025-03-01"),
        ("b/FollowerGender.csv", "2025-03-10"),
    ]  # fmt: skip


def test_a_landing_in_several_batches_and_a_replay_date_copies_alike(tmp_path, monkeypatch):
    """A landing hands its receipts over in batches (5,000 files, 2 here): a copy was dated by the bytes' earliest
    time seen so far, which a replay (every receipt at once) did not repeat: the marts changed after a replay
    (review). Both now look at the same landing's places up to the copy's own, in path order."""
    from orchestration.lib.studio import landing

    monkeypatch.setattr(landing, "BATCH_FILES", 2)
    paths = new_paths(tmp_path)
    old = studio_csv(OVERVIEW, [["March 4", "10", "0", "0", "0", "0"]])
    drop(paths, "a/Overview (1).csv", studio_csv(OVERVIEW, [["March 4", "12", "0", "0", "0", "0"]]),
         datetime(2025, 3, 6, 9, 0))  # fmt: skip
    drop(paths, "a/Overview (2).csv", old, datetime(2025, 6, 1, 9, 0))  # a copy, handed over in the first batch
    drop(paths, "a/zz/Overview.csv", old, datetime(2025, 3, 5, 9, 0))  # the original, in the second
    drop(paths, "a/zz/Overview (3).csv", old, datetime(2025, 7, 1, 9, 0))  # a copy before it ("(" < ".")
    land(paths)
    dates = "select original_name, export_date::varchar from raw.documents order by document_id"
    landed = query(paths, dates)
    assert sorted(landed) == [
        ("Overview (1).csv", "2025-03-06"),
        ("Overview (2).csv", "2025-06-01"),  # nothing at a place before it had these bytes
        ("Overview (3).csv", "2025-06-01"),  # the copy at a place before it had June 1
        ("Overview.csv", "2025-03-05"),
    ]
    shutil.rmtree(paths.root / "warehouse")
    with connect(paths.warehouse) as con:
        replay_archive(paths, con, sources=[LiveSource()])
    assert query(paths, dates) == landed
