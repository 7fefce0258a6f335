"""End to end: files as TikTok names them → Dagster job → published marts with hand-computed values.

The drop (one account, `acct`, crossing New Year):
- three Content snapshots (28 Dec, 2 Jan, 4 Jan) of videos A (posted 27 Dec), B (posted 1 Dec, its
  likes fall), C (posted 4 Jan, first seen that day);
- an Overview ZIP (window from 30 Dec, exported 4 Jan) and a later bare Overview.csv in a dated folder
  (5 Jan) that revises 1 Jan and adds 3 Jan;
- a Followers ZIP (history 31 Dec – 3 Jan, header-only gender file) and a later bare FollowerHistory.csv
  (6 Jan) with an unknown day; a Viewers ZIP (2–3 Jan).
Every expected figure below is worked out from those rows by hand, in the comments.
"""

import hashlib
import re
from datetime import UTC, datetime

import duckdb
import pytest

from orchestration.cli import run_pipeline
from orchestration.defs.studio import record_build_window
from orchestration.lib.core.warehouse import connect
from orchestration.lib.studio.landing import land_inbox
from tests.dbt_runner import mart_tables, planned_build
from tests.studio_fixtures import drop, new_paths, studio_csv, studio_zip

A, B, C = "7000000000000000001", "7000000000000000002", "7000000000000000003"
CONTENT = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares",
           "Total views")  # fmt: skip
OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
HISTORY = ("Date", "Followers", "Difference in followers from previous day")


def _video(day, video, posted, likes, comments, shares, views, title="t"):
    link = f"https://www.tiktok.com/@acct/video/{video}"
    return [day, title, link, posted, str(likes), str(comments), str(shares), str(views)]


def _drop_fixture(paths, order=1):
    epoch = int(datetime(2026, 1, 4, 8, 0, tzinfo=UTC).timestamp())
    files = [
        ("Content_acct.zip", studio_zip({"Content.csv": studio_csv(CONTENT, [
            _video("December 28", A, "December 27", 10, 2, 1, 100, "A 🎉"),
            _video("December 28", B, "December 1", 50, 5, 5, 1000, 'B "quoted"  '),
        ])}, datetime(2025, 12, 28, 10))),
        ("Content_acct (1).zip", studio_zip({"Content.csv": studio_csv(CONTENT, [
            _video("January 2", B, "December 1", 48, 5, 6, 1100),
            _video("January 2", A, "December 27", 30, 4, 2, 400),
        ])}, datetime(2026, 1, 2, 10))),
        ("Content_acct (2).zip", studio_zip({"Content.csv": studio_csv(CONTENT, [
            _video("January 4", A, "December 27", 35, 5, 2, 500),
            _video("January 4", B, "December 1", 49, 6, 6, 1150),
            _video("January 4", C, "January 4", 5, 0, 0, 50),
        ])}, datetime(2026, 1, 4, 10))),
        (f"Overview_2025-12-30_{epoch}_acct.zip", studio_zip({"Overview.csv": studio_csv(OVERVIEW, [
            ["December 30", "10", "1", "1", "0", "0"],
            ["December 31", "20", "2", "2", "0", "0"],
            ["January 1", "30", "3", "3", "1", "0"],
            ["January 2", "40", "4", "4", "1", "1"],
        ])}, datetime(2026, 1, 4, 8))),
        ("acct/2026-01-05/Overview.csv", studio_csv(OVERVIEW, [
            ["January 1", "35", "3", "3", "1", "0"],
            ["January 2", "45", "4", "4", "1", "1"],
            ["January 3", "50", "5", "5", "2", "1"],
        ])),
        ("Followers_acct.zip", studio_zip({
            "FollowerHistory.csv": studio_csv(HISTORY, [
                ["December 31", "undefined", "0"], ["January 1", "100", "0"], ["January 2", "103", "3"],
                ["January 3", "101", "-2"],
            ]),
            "FollowerGender.csv": studio_csv(("Gender", "Distribution"), []),
        }, datetime(2026, 1, 4, 9))),
        ("acct/2026-01-06/FollowerHistory.csv", studio_csv(HISTORY, [["January 4", "undefined", "0"],
                                                                     ["January 5", "110", "0"]])),
        ("Viewers_acct.zip", studio_zip({"Viewers.csv": studio_csv(
            ("Date", "Total Viewers", "New Viewers", "Returning Viewers"),
            [["January 2", "30", "20", "10"], ["January 3", "undefined", "0", "0"]],
        )}, datetime(2026, 1, 4, 9))),
    ]  # fmt: skip
    for name, data in files[::order]:
        drop(paths, name, data)
    return files


@pytest.fixture
def pipeline_env(tmp_path, monkeypatch, dbt_manifest):
    paths = new_paths(tmp_path)
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(paths.root))
    return paths


def _run(paths):
    result = run_pipeline(paths)
    assert result.success
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = [f"{c.asset_key.to_user_string()}:{c.check_name}" for c in checks if not c.passed]
    assert checks and not failed
    return result


def _mart(paths, sql):
    """Query the published marts the way a BI tool does: through the read-only catalog."""
    with duckdb.connect(str(paths.analytics_db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _published_digests(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(paths.marts.glob("*.parquet"))}


def test_marts_equal_hand_computed_figures_and_reruns_change_nothing(pipeline_env):
    paths = pipeline_env
    _drop_fixture(paths)
    _run(paths)

    engagement = _mart(
        paths,
        """
        select video_id, metric_date::varchar, views_total, views_gained, likes_gained, comments_gained,
               shares_gained, days_since_previous_snapshot, round(engagement_rate, 6)
        from fct_video_engagement_daily order by video_id, metric_date""",
    )
    assert engagement == [
        # A, posted the day before its first snapshot: first gains equal the totals; (10+2+1)/100
        (A, "2025-12-28", 100, 100, 10, 2, 1, None, 0.13),
        (A, "2026-01-02", 400, 300, 20, 2, 1, 5, 0.09),  # (30+4+2)/400
        (A, "2026-01-04", 500, 100, 5, 1, 0, 2, 0.084),  # (35+5+2)/500
        # B, posted weeks before it was first seen: no gains on the first snapshot; likes fall by 2
        (B, "2025-12-28", 1000, None, None, None, None, None, 0.06),
        (B, "2026-01-02", 1100, 100, -2, 0, 1, 5, round(59 / 1100, 6)),
        (B, "2026-01-04", 1150, 50, 1, 1, 0, 2, round(61 / 1150, 6)),
        (C, "2026-01-04", 50, 50, 5, 0, 0, None, 0.1),  # posted that day
    ]

    trending = _mart(
        paths,
        """
        select as_of_date::varchar, trending_rank, video_id, views_gained_7d, has_full_window
        from rpt_trending_videos_7d order by as_of_date, trending_rank""",
    )
    assert trending == [
        ("2025-12-28", 1, A, 100, True),  # A posted after 21 Dec: baseline 0; B has no baseline
        ("2026-01-02", 1, A, 400, True),  # A posted after 26 Dec: baseline 0
        ("2026-01-02", 2, B, 100, False),  # no snapshot on 26 Dec: earliest inside, 28 Dec (1000)
        ("2026-01-04", 1, A, 400, True),  # 500 - 100 on 28 Dec
        ("2026-01-04", 2, B, 150, True),  # 1150 - 1000
        ("2026-01-04", 3, C, 50, True),  # posted inside the window: baseline 0
    ]

    overview = _mart(
        paths,
        """
        select metric_date::varchar, video_views, total_viewers, new_viewers, returning_viewers, is_provisional
        from fct_account_overview_daily order by metric_date""",
    )
    assert overview == [
        ("2025-12-30", 10, None, None, None, False),  # newest export covering it: 4 Jan, 5 days later
        ("2025-12-31", 20, None, None, None, False),
        ("2026-01-01", 35, None, None, None, False),  # revised by the 5 Jan export (4 days later)
        ("2026-01-02", 45, 30, 20, 10, True),  # 5 Jan export, 3 days later; viewers exported 4 Jan
        ("2026-01-03", 50, None, None, None, True),  # "undefined" total viewers: its "0","0" parts are filler
    ]

    growth = _mart(
        paths,
        """
        select metric_date::varchar, followers, net_follower_change, net_follower_change_7d
        from fct_follower_growth_daily order by metric_date""",
    )
    assert growth == [
        ("2025-12-31", None, None, None),  # listed as "undefined": every listed day has a row, and opens the spine
        ("2026-01-01", 100, None, None),  # previous day unknown
        ("2026-01-02", 103, 3, None),
        ("2026-01-03", 101, -2, None),
        ("2026-01-04", None, None, None),  # the newer export says "undefined"
        ("2026-01-05", 110, None, None),  # previous day unknown
    ]

    videos = _mart(
        paths,
        """
        select video_id, post_date::varchar, first_seen_date::varchar, last_seen_date::varchar, views_total
        from dim_videos order by video_id""",
    )
    assert videos == [
        (A, "2025-12-27", "2025-12-28", "2026-01-04", 500),
        (B, "2025-12-01", "2025-12-28", "2026-01-04", 1150),
        (C, "2026-01-04", "2026-01-04", "2026-01-04", 50),
    ]
    assert (paths.quality_docs / "index.html").exists()
    summary = re.search(r"(\d+) of (\d+) checks passed", (paths.quality_docs / "checks.html").read_text())
    assert summary and summary[1] == summary[2] and int(summary[1]) > 20

    before = _published_digests(paths)
    _run(paths)
    assert _published_digests(paths) == before, "a rerun changes no published byte"


def _land_and_build(paths, target, dbt):
    """What the daily job does to the data, without Dagster and great-expectations: land (recording the earliest
    new day and the raw tables written), then the dbt build Dagster plans (the whole project on a first build,
    else what the new rows touch; the generic tests batched per model, as the dbt step runs them), then the same
    bookkeeping.

    `dbt(paths, args, target, env)` runs dbt (the `dbt` fixture: in this process, the project parsed once;
    Dagster's own dbt process is run by the test above). Returns the build (`DbtBuild`: whole or narrowed, its
    environment names the min_date it recomputed from).
    """
    with connect(paths.warehouse) as con:
        record_build_window(con, land_inbox(paths, con))  # as the landing asset does
    return planned_build(paths, dbt, target)


def test_same_files_in_another_order_and_in_two_drops_give_identical_marts(tmp_path, dbt):
    results = []
    for name, order, split in (("forward", 1, False), ("reverse_in_two_drops", -1, True)):
        paths = new_paths(tmp_path / name)
        files = _drop_fixture(paths, order)
        if split:  # take the first half back out, run, then re-drop everything (repeats included)
            for name_, _ in files[::order][: len(files) // 2]:
                (paths.inbox / name_).unlink()
            _land_and_build(paths, tmp_path / f"{name}-target-1", dbt)
            _drop_fixture(paths, order)
        _land_and_build(paths, tmp_path / f"{name}-target-2", dbt)
        results.append(mart_tables(paths))
    assert len(results[0]) == 21  # 12 + 5 LIVE marts (empty here) + 4 report marts
    assert results[0] == results[1]
    # 7 engagement + 6 trending + 5 overview + 6 follower days + 3 videos + 1 account (see the test above)
    # + 7 scorecard days (the 6 follower days and 30 Dec from the overview) + 7 outlier rows (one per
    # engagement row) + 1 freshness row (acct's Studio files)
    assert sum(len(rows) for rows in results[0].values()) == 43
