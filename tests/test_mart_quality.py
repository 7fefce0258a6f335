"""great-expectations checks of the published marts, on a hand-built working DuckDB and hand-built marts.

The figures: one account, three days. Staging says 600 video views, a follower maximum of 15 and 4
content snapshots (2 videos x 2 days); the newest loaded export is 2024-03-04 (a later quarantined
file must not count). The marts below agree with all of that, so every check passes; each failing
case then breaks exactly one thing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.marts.quality import MARTS, MartCheckResult, check_published_marts

D1, D2, D3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)
VIDEO_A, VIDEO_B = "7546034661705796877", "7531345990947851551"


def _build_warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw; create schema staging")
        con.execute(
            """
            create table raw.documents as select * from (values
                ('doc-1', 'alice', 'overview', date '2024-03-04', 'loaded'),
                ('doc-2', 'alice', 'content', date '2024-03-03', 'loaded'),
                ('doc-3', 'alice', 'overview', date '2024-03-20', 'quarantined')
            ) as t(document_id, account_handle, file_kind, export_date, status)
            """
        )
        con.execute(
            """
            create table raw.studio_overview as select * from (values
                ('alice', date '2024-03-01', 100::bigint, 5::bigint, 10::bigint, 1::bigint, 0::bigint),
                ('alice', date '2024-03-02', 200, 6, 20, 2, 1),
                ('alice', date '2024-03-03', 300, 7, 30, 3, 2)
            ) as t(account_handle, metric_date, video_views, profile_views, likes, comments, shares)
            """
        )
        con.execute(
            """
            create table raw.studio_follower_history as select * from (values
                ('alice', date '2024-03-01', 10::bigint), ('alice', date '2024-03-02', 12),
                ('alice', date '2024-03-03', 15)
            ) as t(account_handle, metric_date, followers)
            """
        )
        con.execute(
            f"""
            create table raw.studio_content as select * from (values
                ('alice', '{VIDEO_A}', date '2024-03-02', 1000::bigint),
                ('alice', '{VIDEO_B}', date '2024-03-02', 50::bigint),
                ('alice', '{VIDEO_A}', date '2024-03-03', 1300::bigint),
                ('alice', '{VIDEO_B}', date '2024-03-03', 80::bigint)
            ) as t(account_handle, video_id, snapshot_date, views_total)
            """
        )
        con.execute("create view staging.stg_studio__overview as select * from raw.studio_overview")
        con.execute("create view staging.stg_studio__follower_history as select * from raw.studio_follower_history")
        con.execute("create view staging.stg_studio__content as select * from raw.studio_content")


def _marts() -> dict[str, pd.DataFrame]:
    days = [D1, D2, D3]
    return {
        "fct_account_overview_daily": pd.DataFrame(
            {
                "account_handle": ["alice"] * 3,
                "metric_date": days,
                "video_views": [100, 200, 300],
                "profile_views": [5, 6, 7],
                "likes": [10, 20, 30],
                "comments": [1, 2, 3],
                "shares": [0, 1, 2],
                "total_viewers": [80, None, 150],  # "undefined" in the export: null is fine
                "new_viewers": [50, None, 90],
                "returning_viewers": [30, None, 60],
                "is_provisional": [False, True, True],
            }
        ),
        "fct_follower_growth_daily": pd.DataFrame(
            {
                "account_handle": ["alice"] * 3,
                "metric_date": days,
                "followers": [10, 12, 15],
                "net_follower_change": [0, 2, 3],
                "net_follower_change_7d": [0, 2, 5],
                "net_follower_change_28d": [0, 2, 5],
            }
        ),
        "fct_video_engagement_daily": pd.DataFrame(
            {
                "account_handle": ["alice"] * 4,
                "video_id": [VIDEO_A, VIDEO_B, VIDEO_A, VIDEO_B],
                "metric_date": [D2, D2, D3, D3],
                "views_total": [1000, 50, 1300, 80],
                "likes_total": [100, 5, 130, 9],
                "comments_total": [10, 0, 12, 1],
                "shares_total": [1, 0, 2, 0],
                "views_gained": [None, None, 300, 30],
                "likes_gained": [None, None, 30, 4],
                "comments_gained": [None, None, 2, 1],
                "shares_gained": [None, None, 1, 0],
                "days_since_previous_snapshot": [None, None, 1, 1],
                "engagement_rate": [None, None, 0.11, 0.1667],
            }
        ),
        "rpt_trending_videos_7d": pd.DataFrame(
            {
                "account_handle": ["alice"] * 2,
                "as_of_date": [D3, D3],
                "trending_rank": [1, 2],
                "video_id": [VIDEO_A, VIDEO_B],
                "views_gained_7d": [300, 30],
                "views_total": [1300, 80],
                "post_date": [dt.date(2024, 2, 1), dt.date(2024, 2, 20)],
                "has_full_window": [False, False],
            }
        ),
        "dim_videos": pd.DataFrame(
            {
                "account_handle": ["alice"] * 2,
                "video_id": [VIDEO_A, VIDEO_B],
                "post_date": [dt.date(2024, 2, 1), dt.date(2024, 2, 20)],
                "views_total": [1300, 80],
                "likes_total": [130, 9],
                "comments_total": [12, 1],
                "shares_total": [2, 0],
            }
        ),
        "dim_accounts": pd.DataFrame({"account_handle": ["alice"], "first_metric_date": [D1]}),
        "fct_follower_activity_hourly": pd.DataFrame(
            {
                "account_handle": ["alice"] * 24,
                "metric_date": [D3] * 24,
                "hour": list(range(24)),
                "active_followers": [5] * 20 + [None] * 4,  # trailing hours not computed yet
            }
        ),
        "fct_follower_gender_snapshot": pd.DataFrame(  # small account: headers only
            {"account_handle": [], "snapshot_date": [], "gender": [], "distribution": []}
        ),
        "fct_follower_territory_snapshot": pd.DataFrame(
            {
                "account_handle": ["alice"] * 2,
                "snapshot_date": [D3] * 2,
                "territory": ["US", "Others"],
                "distribution": [0.7, 0.3],
            }
        ),
        # Business API marts: published but empty when no Business account is configured
        "fct_video_business_metrics_daily": pd.DataFrame(
            {
                "account_handle": pd.Series([], dtype="string"),
                "video_id": pd.Series([], dtype="string"),
                "metric_date": pd.Series([], dtype="datetime64[ns]"),
                **{
                    c: pd.Series([], dtype="float64")
                    for c in (
                        "views_total",
                        "reach_total",
                        "total_time_watched_s",
                        "average_time_watched_s",
                        "full_video_watched_rate",
                    )
                },
            }
        ),
        "fct_video_traffic_sources_daily": pd.DataFrame(
            {c: pd.Series([], dtype="string") for c in ("account_handle", "video_id", "impression_source")}
            | {
                "metric_date": pd.Series([], dtype="datetime64[ns]"),
                "share": pd.Series([], dtype="float64"),
                "views_total": pd.Series([], dtype="float64"),
            }
        ),
        "fct_video_audience_countries_daily": pd.DataFrame(
            {c: pd.Series([], dtype="string") for c in ("account_handle", "video_id", "country")}
            | {
                "metric_date": pd.Series([], dtype="datetime64[ns]"),
                "share": pd.Series([], dtype="float64"),
                "views_total": pd.Series([], dtype="float64"),
            }
        ),
    }


def _run(tmp_path: Path, marts: dict[str, pd.DataFrame], **kwargs) -> list[MartCheckResult]:
    data = tmp_path / "data"
    marts_dir, warehouse = data / "marts", data / "warehouse" / "pipeline.duckdb"
    marts_dir.mkdir(parents=True)
    warehouse.parent.mkdir(parents=True)
    _build_warehouse(warehouse)
    for name, frame in marts.items():
        frame.to_parquet(marts_dir / f"{name}.parquet", index=False)
    return check_published_marts(marts_dir, warehouse, marts_dir / "quality", **kwargs)


def _failing(results: list[MartCheckResult]) -> list[tuple[str, str]]:
    return [(r.mart, r.check) for r in results if not r.passed]


def test_consistent_marts_pass_every_check_and_data_docs_are_written(tmp_path: Path) -> None:
    results = _run(tmp_path, _marts())

    assert _failing(results) == []
    checks = {(r.mart, r.check) for r in results}
    for mart in MARTS:
        assert {(mart, "grain"), (mart, "schema")} <= checks
    assert ("fct_follower_gender_snapshot", "volume") not in checks  # may be empty: small accounts
    assert {
        ("fct_account_overview_daily", "ranges"),
        ("fct_account_overview_daily", "reconciles_with_raw"),
        ("fct_account_overview_daily", "recency"),
        ("fct_follower_growth_daily", "ranges"),
        ("fct_follower_growth_daily", "reconciles_with_raw"),
        ("fct_video_engagement_daily", "ranges"),
        ("fct_video_engagement_daily", "reconciles_with_raw"),
        ("rpt_trending_videos_7d", "ranges"),
    } <= checks
    assert len(checks) == len(results)  # one result per mart and check
    json.dumps([r.details for r in results])  # details are plain JSON

    by_key = {(r.mart, r.check): r for r in results}
    reconcile = by_key["fct_account_overview_daily", "reconciles_with_raw"]
    assert reconcile.details["observed"] == {"sum(video_views)": 600}
    recency = by_key["fct_account_overview_daily", "recency"]
    assert recency.details["newest_loaded_export_date"] == "2024-03-04"  # quarantined file ignored
    assert recency.details["observed"] == {"max(metric_date)": "2024-03-03"}

    docs = tmp_path / "data" / "marts" / "quality"
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "fct_account_overview_daily" in index
    assert list((docs / "validations").rglob("*.html"))
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["marts", "warehouse"]


def test_a_sum_that_does_not_reconcile_fails_only_that_check(tmp_path: Path) -> None:
    marts = _marts()
    marts["fct_account_overview_daily"].loc[2, "video_views"] = 301

    results = _run(tmp_path, marts)

    assert _failing(results) == [("fct_account_overview_daily", "reconciles_with_raw")]
    failed = next(r for r in results if not r.passed)
    assert failed.details["raw"] == {"sum(video_views)": 600}
    assert failed.details["observed"] == {"sum(video_views)": 601}
    [expectation] = failed.details["failed"]
    assert expectation["expectation"] == "expect_column_sum_to_be_between"
    assert expectation["observed_value"] == 601


def test_a_negative_count_fails_the_ranges_check_with_the_offending_value(tmp_path: Path) -> None:
    marts = _marts()
    marts["fct_account_overview_daily"].loc[0, "likes"] = -4

    results = _run(tmp_path, marts)

    assert _failing(results) == [("fct_account_overview_daily", "ranges")]
    [expectation] = next(r for r in results if not r.passed).details["failed"]
    assert expectation["expected"] == {"column": "likes", "min_value": 0}
    assert expectation["unexpected_count"] == 1
    assert expectation["unexpected_examples"] == [-4]


def test_an_overview_older_than_the_recency_window_fails_recency(tmp_path: Path) -> None:
    results = _run(tmp_path, _marts(), recency_days=0)  # newest day 03-03, newest loaded export 03-04

    assert _failing(results) == [("fct_account_overview_daily", "recency")]
    [recency] = [r for r in results if r.check == "recency"]
    assert recency.details["failed"][0]["expected"] == {
        "column": "metric_date",
        "min_value": "2024-03-04",
        "max_value": "2024-03-04",
    }
    assert recency.details["observed"] == {"max(metric_date)": "2024-03-03"}


def test_two_videos_sharing_a_trending_rank_fail_the_grain_check(tmp_path: Path) -> None:
    marts = _marts()
    marts["rpt_trending_videos_7d"].loc[1, "trending_rank"] = 1

    results = _run(tmp_path, marts)

    assert _failing(results) == [("rpt_trending_videos_7d", "grain")]
    [failed] = next(r for r in results if not r.passed).details["failed"]
    assert failed["expected"] == {"column_list": ["account_handle", "as_of_date", "trending_rank"]}
    assert failed["unexpected_count"] == 2


def test_a_rank_beyond_the_dbt_top_n_fails_ranges(tmp_path: Path) -> None:
    marts = _marts()
    marts["rpt_trending_videos_7d"].loc[1, "trending_rank"] = 10  # trending_top_n is 9

    results = _run(tmp_path, marts)

    assert _failing(results) == [("rpt_trending_videos_7d", "ranges")]


def test_a_missing_mart_fails_its_volume_check_and_an_unknown_one_is_still_counted(
    tmp_path: Path,
) -> None:
    marts = _marts()
    del marts["dim_accounts"]
    marts["rpt_new_report"] = pd.DataFrame({"account_handle": []})

    results = _run(tmp_path, marts)

    assert _failing(results) == [("dim_accounts", "volume"), ("rpt_new_report", "volume")]
    assert [r.check for r in results if r.mart == "dim_accounts"] == ["volume"]
    assert [r.check for r in results if r.mart == "rpt_new_report"] == ["volume"]
    assert results[-1].details["observed"] == {"row_count": 0}
    assert (tmp_path / "data" / "marts" / "quality" / "index.html").is_file()


def test_a_dropped_contract_column_fails_schema_and_the_checks_that_need_it(tmp_path: Path) -> None:
    marts = _marts()
    marts["fct_account_overview_daily"] = marts["fct_account_overview_daily"].drop(columns=["video_views"])

    results = _run(tmp_path, marts)

    assert _failing(results) == [
        ("fct_account_overview_daily", "schema"),
        ("fct_account_overview_daily", "ranges"),
        ("fct_account_overview_daily", "reconciles_with_raw"),
    ]
    by_check = {r.check: r for r in results if r.mart == "fct_account_overview_daily"}
    assert by_check["schema"].details["failed"][0]["mismatched"] == {"missing": ["video_views"]}
    [reconcile] = by_check["reconciles_with_raw"].details["failed"]
    assert reconcile["errors"] == ['Error: The column "video_views" in BatchData does not exist.']
