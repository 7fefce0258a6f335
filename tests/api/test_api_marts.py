"""Marts built from API snapshots equal figures worked out by hand (one dbt build on a temporary warehouse).

Display account @techcreator (Europe/Berlin), pulled at 12:00 UTC on May 3, 4 and 6 (not on May 5):

| video | posted | May 3 views/likes/comments/shares | May 4 | May 6 |
|---|---|---|---|---|
| A ...001 | Apr 20 | 1000 / 100 / 10 / 5 | 1100 / 110 / 9 / 5 | 1300 / 120 / 9 / 6 |
| B ...002 | May 2  | 300 / 30 / 3 / 1    | 600 / 50 / 3 / 2   | (gone: deleted or made private) |
| C ...003 | May 4  | —                   | 50 / 5 / 0 / 0     | 250 / 20 / 1 / 1 |

followers 500, 520, (no pull), 510. Business account @shop (America/Los_Angeles) pulled once on May 3.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from orchestration.lib.api.landing import pull_account

from .conftest import T0, business_metrics, business_videos, setup_business, setup_display, write_both_accounts

A, B, C = "7500000000000000001", "7500000000000000002", "7500000000000000003"


def _video(video_id: str, posted: datetime, views: int, likes: int, comments: int, shares: int) -> dict:
    return {
        "id": video_id,
        "create_time": int(posted.timestamp()),
        "title": f"Video {video_id[-1]}",
        "video_description": "",
        "duration": 30,
        "share_url": f"https://www.tiktok.com/@techcreator/video/{video_id}",
        "like_count": likes,
        "comment_count": comments,
        "share_count": shares,
        "view_count": views,
    }


POSTED = {
    A: datetime(2026, 4, 20, 9, tzinfo=UTC),
    B: datetime(2026, 5, 2, 9, tzinfo=UTC),
    C: datetime(2026, 5, 4, 10, tzinfo=UTC),
}
DAYS = [
    (T0, 500, [(C, None), (B, (300, 30, 3, 1)), (A, (1000, 100, 10, 5))]),
    (T0 + timedelta(days=1), 520, [(C, (50, 5, 0, 0)), (B, (600, 50, 3, 2)), (A, (1100, 110, 9, 5))]),
    (T0 + timedelta(days=3), 510, [(C, (250, 20, 1, 1)), (A, (1300, 120, 9, 6))]),
]


@pytest.fixture(scope="module")
def marts(tmp_path_factory, dbt, dbt_manifest):
    """Pull three days of both accounts through the fake, then build every dbt model once."""
    from _pytest.monkeypatch import MonkeyPatch

    from orchestration.lib.core.paths import DataPaths
    from orchestration.lib.core.warehouse import connect

    from .fake_tiktok import CLIENT_KEY, CLIENT_SECRET, FakeTikTok

    root = tmp_path_factory.mktemp("api_marts")
    patch = MonkeyPatch()
    patch.setenv("TIKTOK_CLIENT_KEY", CLIENT_KEY)
    patch.setenv("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
    patch.delenv("TIKTOK_ACCOUNTS_FILE", raising=False)
    paths = DataPaths(root / "data").ensure()
    fake = FakeTikTok().start()
    try:
        setup_business(fake, paths, videos=2)
        fake.business_metrics = business_metrics("2026-04-20", 20)
        setup_display(fake, paths)
        config = write_both_accounts(fake, paths)
        con = connect(paths.warehouse)
        try:
            for moment, followers, videos in DAYS:
                fake.videos = [_video(v, POSTED[v], *totals) for v, totals in videos if totals is not None]
                fake.user["follower_count"], fake.user["video_count"] = followers, len(fake.videos)
                result = pull_account(
                    paths, con, config, config.account("techcreator"), now=lambda m=moment: m, sleep=lambda s: None
                )
                assert result.status == "complete", result.reason
            fake.business_videos = business_videos(2)
            shop = pull_account(paths, con, config, config.account("shop"), now=lambda: T0, sleep=lambda s: None)
            assert shop.status == "complete", shop.reason
        finally:
            con.close()
    finally:
        fake.stop()
        patch.undo()
    # This build is where the suite runs dbt's unit tests (production builds skip them): all of them ran and passed.
    manifest = json.loads(dbt_manifest.read_text())
    results = dbt.build_all(paths, root / "dbt_target", manifest)
    unit_results = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert unit_results == dict.fromkeys(manifest["unit_tests"], "pass")
    # the LIVE and report marts' too: their own tests' builds leave them out (test_live_marts, test_report_marts)
    assert len(unit_results) >= 20 and {"live", "rpt_"} <= {k for u in unit_results for k in ("live", "rpt_") if k in u}
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    yield connection
    connection.close()


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_video_gains_from_api_snapshots(marts):
    rows = _rows(
        marts,
        """
        select video_id, metric_date, views_gained, likes_gained, comments_gained, shares_gained,
               days_since_previous_snapshot
        from marts.fct_video_engagement_daily where account_handle = 'techcreator' order by 1, 2""",
    )
    assert rows == [
        # A: first API snapshot of an old video is no growth; then day-over-day, a deleted comment stays -1
        (A, date(2026, 5, 3), None, None, None, None, None),
        (A, date(2026, 5, 4), 100, 10, -1, 0, 1),
        (A, date(2026, 5, 6), 200, 10, 0, 1, 2),  # two days of growth, May 5 was not pulled
        # B: posted the day before its first snapshot, so its totals count from zero
        (B, date(2026, 5, 3), 300, 30, 3, 1, None),
        (B, date(2026, 5, 4), 300, 20, 0, 1, 1),
        # C: posted on the day of its first snapshot
        (C, date(2026, 5, 4), 50, 5, 0, 0, None),
        (C, date(2026, 5, 6), 200, 15, 1, 1, 2),
    ]
    (rate,) = _rows(
        marts,
        f"select engagement_rate from marts.fct_video_engagement_daily "
        f"where video_id = '{A}' and metric_date = '2026-05-03'",
    )[0]
    assert rate == pytest.approx((100 + 10 + 5) / 1000)


def test_trending_report_for_an_api_only_account(marts):
    rows = _rows(
        marts,
        """
        select trending_rank, video_id, views_gained_7d, has_full_window from marts.rpt_trending_videos_7d
        where account_handle = 'techcreator' and as_of_date = '2026-05-06' order by 1""",
    )
    # A: no snapshot 7 days earlier, posted before the window: earliest snapshot inside it (May 3: 1000)
    # C: posted inside the window, all of its views are window growth
    assert rows == [(1, A, 300, False), (2, C, 250, True)]


def test_follower_growth_from_daily_api_snapshots(marts):
    rows = _rows(
        marts,
        """
        select metric_date, followers, net_follower_change from marts.fct_follower_growth_daily
        where account_handle = 'techcreator' order by 1""",
    )
    assert rows == [
        (date(2026, 5, 3), 500, None),
        (date(2026, 5, 4), 520, 20),
        (date(2026, 5, 5), None, None),  # not captured, never interpolated
        (date(2026, 5, 6), 510, None),
    ]
    # Business: TikTok's daily totals (UTC dates, re-read for 7 days up to May 2), then the profile on May 3
    shop = _rows(
        marts,
        """
        select metric_date, followers from marts.fct_follower_growth_daily
        where account_handle = 'shop' order by 1""",
    )
    assert shop[0] == (date(2026, 4, 26), 2000 + 5 * 6) and shop[-2] == (date(2026, 5, 2), 2000 + 5 * 12)
    assert shop[-1] == (date(2026, 5, 3), 2100)


def test_vanished_videos_keep_their_history_and_are_marked(marts):
    rows = _rows(
        marts,
        """
        select video_id, first_seen_date, last_seen_date, is_still_listed, views_total
        from marts.dim_videos where account_handle = 'techcreator' order by 1""",
    )
    assert rows == [
        (A, date(2026, 5, 3), date(2026, 5, 6), True, 1300),
        (B, date(2026, 5, 3), date(2026, 5, 4), False, 600),
        (C, date(2026, 5, 4), date(2026, 5, 6), True, 250),
    ]


def test_business_video_metrics_and_share_tables(marts):
    metrics = _rows(
        marts,
        """
        select video_id, reach_total, total_time_watched_s, average_time_watched_s, full_video_watched_rate
        from marts.fct_video_business_metrics_daily order by 1""",
    )
    assert metrics == [
        ("7600000000000000001", 810, 5001.0, 5.0, 0.25),
        ("7600000000000000002", 800, 5000.0, 5.0, 0.25),
    ]
    traffic = _rows(
        marts,
        """
        select impression_source, share, views_total from marts.fct_video_traffic_sources_daily
        where video_id = '7600000000000000002' order by 2 desc""",
    )
    assert traffic == [("For You", 0.7, 1000), ("Follow", 0.2, 1000), ("Search", 0.1, 1000)]
    countries = _rows(
        marts,
        """
        select metric_date, country, share from marts.fct_video_audience_countries_daily
        where video_id = '7600000000000000001' order by 3 desc""",
    )
    assert countries == [(date(2026, 5, 3), "DE", 0.6), (date(2026, 5, 3), "AT", 0.4)]


def test_snapshot_source_is_kept(marts):
    assert _rows(
        marts, "select distinct snapshot_source from intermediate.int_video_snapshots__unioned order by 1"
    ) == [("api_business",), ("api_display",)]
