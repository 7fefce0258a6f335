"""The report marts from hand-made raw rows: scorecard, outlier and freshness values worked out by hand.

Rows inserted into the raw tables of a fresh `connect()` warehouse, as landing would leave them:
- @acct (Studio). FollowerHistory (exported 30 Jan): 1000 followers from 1 to 7 Jan, 1250 from 8 to
  28 Jan, 1500 on 29 Jan. Overview (same export): 8 Jan 1000 views, 80 likes, 15 comments, 5 shares;
  29 Jan 2000 views, 250 likes, 40 comments, 10 shares. Content exported 10 and 17 Jan: V1..V5 posted
  20 Dec with 100 views each on 10 Jan and 200, 300, 400, 500, 1600 on 17 Jan; V6 posted 15 Jan, 50
  views on 17 Jan. A Content file exported 2 Feb was quarantined; a LIVE log exported 25 Jan landed.
- @biz (Business API only): a business/get pull on 31 Jan returned 30 Jan: 500 views, 200 unique video
  views (reach), 40 likes, 6 comments, 4 shares, 800 followers; the pull of 1 Feb failed.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from orchestration.lib.core.warehouse import connect
from tests.dbt_runner import failures

V = [f"710000000000000000{i}" for i in range(1, 7)]  # V1..V6
REPORT_MARTS = ("rpt_account_scorecard_daily", "rpt_video_outliers_daily", "rpt_account_freshness")


def _day(day: int, month: int = 1) -> date:
    return date(2026, month, day)


def _rows(document_id: str, handle: str, export_date: date, rows: list[dict]) -> list[dict]:
    exported_at = datetime.combine(export_date, datetime.min.time()) + timedelta(hours=9)
    return [
        {"document_id": document_id, "account_handle": handle, "export_date": export_date,
         "exported_at": exported_at, "source_row": i, **row}
        for i, row in enumerate(rows, start=1)
    ]  # fmt: skip


def _insert(con, table: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)  # noqa: F841 (read by DuckDB below)
    con.execute(f"insert into raw.{table} by name select * from frame")


def _document(document_id: str, kind: str, export_date: date, status: str = "loaded") -> dict:
    return {
        "document_id": document_id, "archive_sha256": document_id * 8, "original_name": f"{kind}.csv",
        "account_handle": "acct", "file_kind": kind, "export_date": export_date,
        "exported_at": datetime.combine(export_date, datetime.min.time()), "status": status,
        "landed_at": datetime(2026, 2, 3),
    }  # fmt: skip


def _video(video_id: str, posted: date, views: int) -> dict:
    link = f"https://www.tiktok.com/@acct/video/{video_id}"
    return {"video_id": video_id, "video_title": "t", "video_link": link, "post_date": posted,
            "likes_total": 0, "comments_total": 0, "shares_total": 0, "views_total": views}  # fmt: skip


def _fill(con) -> None:
    _insert(con, "documents", [
        _document("o1", "overview", _day(30)), _document("f1", "follower_history", _day(30)),
        _document("c1", "content", _day(10)), _document("c2", "content", _day(17)),
        _document("q1", "content", _day(2, 2), status="quarantined"), _document("l1", "live_log", _day(25)),
    ])  # fmt: skip
    followers = [1000] * 7 + [1250] * 21 + [1500]  # 1..29 Jan
    _insert(con, "studio_follower_history", _rows("f1", "acct", _day(30), [
        {"metric_date": _day(d), "followers": n, "follower_difference": n - followers[max(d - 2, 0)]}
        for d, n in enumerate(followers, start=1)
    ]))  # fmt: skip
    _insert(con, "studio_overview", _rows("o1", "acct", _day(30), [
        {"metric_date": _day(8), "video_views": 1000, "profile_views": 1, "likes": 80, "comments": 15, "shares": 5},
        {"metric_date": _day(29), "video_views": 2000, "profile_views": 1, "likes": 250, "comments": 40, "shares": 10},
    ]))  # fmt: skip
    posted = date(2025, 12, 20)
    _insert(con, "studio_content", _rows("c1", "acct", _day(10), [
        {"metric_date": _day(10), **_video(v, posted, 100)} for v in V[:5]
    ]))  # fmt: skip
    views_17 = zip(V[:5], (200, 300, 400, 500, 1600), strict=True)
    _insert(con, "studio_content", _rows("c2", "acct", _day(17), [
        {"metric_date": _day(17), **_video(v, posted, views)} for v, views in views_17
    ] + [{"metric_date": _day(17), **_video(V[5], _day(15), 50)}]))  # fmt: skip
    for pull_id, day, status in (("b1", _day(31), "complete"), ("b2", _day(1, 2), "failed")):
        pulled_at = datetime.combine(day, datetime.min.time()) + timedelta(hours=6)
        con.execute(
            """insert into raw.api_pulls (pull_id, account_handle, api, endpoint, purpose, metric_date, timezone,
            pulled_at, status, landed_at) values (?, 'biz', 'business', 'business/get', 'daily', ?, 'UTC', ?, ?, ?)""",
            [pull_id, day, pulled_at, status, datetime(2026, 2, 3)],
        )  # fmt: skip
    _insert(con, "api_business_daily", _rows("b1", "biz", _day(31), [
        {"metric_date": _day(30), "video_views": 500, "unique_video_views": 200, "profile_views": 9, "likes": 40,
         "comments": 6, "shares": 4, "bio_link_clicks": 0, "new_followers": 10, "lost_followers": 2,
         "followers_count": 800, "net_followers": 8},
    ]))  # fmt: skip


@pytest.fixture(scope="module")
def marts(tmp_path_factory, dbt):
    root = tmp_path_factory.mktemp("report_marts")
    with connect(root / "data" / "warehouse" / "pipeline.duckdb") as con:
        _fill(con)
    # the marts, what they read, and their tests; "cautious": only tests whose every parent is built. Their unit
    # tests (_marts__report_unit_tests.yml) run with all the others in tests/api/test_api_marts.py's build.
    select = [f"+{m}+" for m in REPORT_MARTS] + ["+dim_accounts", "+dim_videos"]
    built = dbt.invoke(root / "data", ["build", "--select", *select, "--indirect-selection", "cautious",
                                       "--exclude-resource-type", "unit_test"], root / "dbt_target")  # fmt: skip
    assert built.success, built.exception or failures(root / "dbt_target")
    results = json.loads((root / "dbt_target" / "run_results.json").read_text())["results"]
    assert not [r["unique_id"] for r in results if r["status"] not in ("success", "pass")]
    ran = {r["unique_id"] for r in results}
    assert sum(uid.startswith("model.tiktok_warehouse.rpt_") for uid in ran) >= 3, sorted(ran)
    connection = duckdb.connect(str(root / "data" / "warehouse" / "pipeline.duckdb"), read_only=True)
    yield connection
    connection.close()


def _rows_of(con, sql: str, *params) -> list[dict]:
    relation = con.execute(sql, list(params))
    names = [c[0] for c in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def _scorecard(con, handle: str, day: date) -> dict:
    [row] = _rows_of(
        con, "select * from marts.rpt_account_scorecard_daily where account_handle = ? and metric_date = ?", handle, day
    )
    return row


def test_scorecard_has_a_row_per_day_any_input_knows(marts):
    counts = marts.execute(
        "select account_handle, count(*), min(metric_date), max(metric_date) from marts.rpt_account_scorecard_daily"
        " group by all order by all"
    ).fetchall()
    # acct: the follower spine 1..29 Jan (the Overview days lie inside it); biz: the API's 30 Jan
    assert counts == [("acct", 29, _day(1), _day(29)), ("biz", 1, _day(30), _day(30))]


def test_scorecard_growth_and_engagement_worked_out_by_hand(marts):
    first = _scorecard(marts, "acct", _day(8))
    # 7-day change 1250 - 1000 = 250 over 1000 at the window start = 0.25; no 28 days before 8 Jan
    assert (first["net_follower_change_7d"], first["follower_growth_rate_7d"]) == (250, 0.25)
    assert (first["net_follower_change_28d"], first["follower_growth_rate_28d"]) == (None, None)
    # engagement 80 + 15 + 5 = 100: / 1000 views = 0.1, / 1250 followers = 0.08; Studio only: no reach
    assert first["daily_metrics_source"] == "studio_overview" and first["is_provisional"] is False
    assert (first["engagement_rate_by_views"], first["engagement_rate_by_followers"]) == (0.1, 0.08)
    assert (first["reach"], first["engagement_rate_by_reach"]) == (None, None)

    last = _scorecard(marts, "acct", _day(29))
    # 7 days: 1500 - 1250 = 250 / 1250 = 0.2; 28 days: 1500 - 1000 = 500 / 1000 = 0.5
    assert (last["net_follower_change_7d"], last["follower_growth_rate_7d"]) == (250, 0.2)
    assert (last["net_follower_change_28d"], last["follower_growth_rate_28d"]) == (500, 0.5)
    # 250 + 40 + 10 = 300: / 2000 = 0.15, / 1500 = 0.2; exported the next day: provisional
    assert (last["engagement_rate_by_views"], last["engagement_rate_by_followers"]) == (0.15, 0.2)
    assert last["is_provisional"] is True

    quiet = _scorecard(marts, "acct", _day(15))  # followers only: no daily figures, no rates
    assert (quiet["followers"], quiet["net_follower_change"], quiet["video_views"]) == (1250, 0, None)
    assert (quiet["daily_metrics_source"], quiet["engagement_rate_by_views"]) == (None, None)


def test_scorecard_of_a_business_api_account_has_reach(marts):
    biz = _scorecard(marts, "biz", _day(30))
    # 40 + 6 + 4 = 50: / 500 views = 0.1, / 800 followers = 0.0625, / 200 reached = 0.25
    assert (biz["followers"], biz["video_views"], biz["reach"]) == (800, 500, 200)
    assert biz["daily_metrics_source"] == "api_business_daily" and biz["is_provisional"] is None
    assert (biz["engagement_rate_by_views"], biz["engagement_rate_by_followers"]) == (0.1, 0.0625)
    assert biz["engagement_rate_by_reach"] == 0.25


def test_outlier_scores_against_the_median_of_videos_of_the_same_age(marts):
    rows = _rows_of(
        marts,
        "select video_id, age_bucket, days_since_post, views_gained_7d, peer_videos, peer_median_views_gained_7d,"
        " outlier_score, is_breakout from marts.rpt_video_outliers_daily where metric_date = ? order by video_id",
        _day(17),
    )
    # 17 Jan - 20 Dec = 28 days (8-30d): gains 100, 200, 300, 400, 1500 since 10 Jan; median 300 over 5 peers
    # (= outlier_min_peers); scores 1/3, 2/3, 1, 4/3, 5; 5 >= 3 is a breakout
    same_age = rows[:5]
    assert [r["views_gained_7d"] for r in same_age] == [100, 200, 300, 400, 1500]
    assert {(r["age_bucket"], r["days_since_post"], r["peer_videos"], r["peer_median_views_gained_7d"])
            for r in same_age} == {("8-30d", 28, 5, 300)}  # fmt: skip
    assert [r["outlier_score"] for r in same_age] == pytest.approx([1 / 3, 2 / 3, 1, 4 / 3, 5])
    assert [r["is_breakout"] for r in same_age] == [False, False, False, False, True]
    # V6: posted 15 Jan (2 days, 0-7d), all 50 views are growth, but it is alone in its bucket: no score
    assert rows[5] == {"video_id": V[5], "age_bucket": "0-7d", "days_since_post": 2, "views_gained_7d": 50,
                       "peer_videos": 1, "peer_median_views_gained_7d": 50, "outlier_score": None,
                       "is_breakout": False}  # fmt: skip
    # 10 Jan: no snapshot 7 days earlier and posted before the window: no growth, so no score at all
    first = marts.execute(
        "select count(*), count(views_gained_7d), count(outlier_score) from marts.rpt_video_outliers_daily"
        " where metric_date = ?",
        [_day(10)],
    ).fetchone()
    assert first == (5, 0, 0)


def test_freshness_per_account_and_source(marts):
    rows = _rows_of(marts, "select * from marts.rpt_account_freshness order by account_handle, export_source")
    # newest loaded export anywhere: biz's pull of 31 Jan; the quarantined Content file of 2 Feb and the
    # failed pull of 1 Feb are counted, never dated
    reference = _day(31)
    assert rows == [
        {"account_handle": "acct", "export_source": "live", "first_export_date": _day(25),
         "last_export_date": _day(25), "exports_loaded": 1, "exports_not_loaded": 0, "reference_date": reference,
         "days_behind_reference": 6, "is_agency_wide_folder": False},
        {"account_handle": "acct", "export_source": "studio", "first_export_date": _day(10),
         "last_export_date": _day(30), "exports_loaded": 4, "exports_not_loaded": 1, "reference_date": reference,
         "days_behind_reference": 1, "is_agency_wide_folder": False},
        {"account_handle": "biz", "export_source": "api_business", "first_export_date": _day(31),
         "last_export_date": _day(31), "exports_loaded": 1, "exports_not_loaded": 1, "reference_date": reference,
         "days_behind_reference": 0, "is_agency_wide_folder": False},
    ]  # fmt: skip
