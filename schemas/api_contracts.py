"""pandera contracts for rows parsed from TikTok API responses, one per raw `api_*` table.

The parser (`orchestration.lib.api.parse`) already refuses a response with a missing field or a
value of the wrong kind, naming the page and the item; these contracts are the second line: types,
ranges, one row per key within a pull, and "posted before seen". A pull whose rows fail is not
loaded at all (a partial snapshot would look like deleted videos).

Severity (README "Severity"): every rule here is structural. Shares of one video or dimension summing
above 1 is plausibility, not here: TikTok rounds its percentages and the rows are TikTok's own, and
refusing the pull would also lose the day's follower count, which can never be pulled again. The rows
land and the dbt test `shares_sum_to_at_most` (severity warn) lists each group whose sum passes
1 + SHARE_SUM_TOLERANCE. It is not recorded in raw.row_flags: API rows are replaced per account and day
(not per pull), so a per-pull flag would outlive the rows it points at; the test reads what is there now.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

SHARE_SUM_TOLERANCE = 0.05  # shares are rounded by TikTok; the dbt test's `at_most` is 1 + this


def _count(nullable: bool = True, can_be_negative: bool = False) -> pa.Column:
    return pa.Column("Int64", checks=[] if can_be_negative else [pa.Check.ge(0)], nullable=nullable, coerce=True)


def _date(nullable: bool = False) -> pa.Column:
    return pa.Column("datetime64[ns]", nullable=nullable, coerce=True)


def _share() -> pa.Column:
    return pa.Column("Float64", pa.Check.in_range(0, 1), nullable=False, coerce=True)


def _seconds() -> pa.Column:
    return pa.Column("Float64", pa.Check.ge(0), nullable=True, coerce=True)


def _text(nullable: bool = True, *checks: pa.Check) -> pa.Column:
    return pa.Column(str, list(checks), nullable=nullable)


def _unique_within_pull(*columns: str) -> pa.Check:
    def check(frame: pd.DataFrame) -> pd.Series:
        return ~frame.duplicated(subset=["document_id", *columns], keep=False)

    return pa.Check(check, name=f"one_row_per_{'_'.join(columns) or 'account'}_per_pull")


def _posted_before_seen(frame: pd.DataFrame) -> pd.Series:
    return (frame["post_date"] <= frame["metric_date"]).fillna(True)


_LINEAGE = {
    "document_id": pa.Column(str, nullable=False),
    "account_handle": pa.Column(str, pa.Check.str_matches(r"^[A-Za-z0-9._]{1,64}$"), nullable=False),
    "export_date": _date(),
    "exported_at": pa.Column("datetime64[ns]", nullable=False, coerce=True),
    "source_row": pa.Column("int64", pa.Check.ge(1), coerce=True),
}
LINEAGE_COLUMNS = tuple(_LINEAGE)  # in every API raw table: which pull, account and row it came from
_API = pa.Column(str, pa.Check.isin(["display", "business"]), nullable=False)
_VIDEO_ID = pa.Column(str, pa.Check.str_matches(r"^\d{1,25}$"), nullable=False)


def _schema(columns: dict, checks: list | None = None) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({**_LINEAGE, **columns}, checks=checks or [], strict=True, ordered=False)


API_CONTRACTS: dict[str, pa.DataFrameSchema] = {
    "api_user_snapshots": _schema(
        {
            "api": _API,
            "metric_date": _date(),
            "open_id": _text(),
            "username": _text(),
            "display_name": _text(),
            "follower_count": _count(nullable=False),
            "following_count": _count(),
            "likes_count": _count(),
            "video_count": _count(nullable=False),
        },
        [_unique_within_pull()],
    ),
    "api_video_snapshots": _schema(
        {
            "api": _API,
            "metric_date": _date(),
            "video_id": _VIDEO_ID,
            "created_at": pa.Column("datetime64[ns]", nullable=True, coerce=True),
            "post_date": _date(nullable=True),
            "title": _text(),
            "description": _text(),
            "duration_s": _seconds(),
            "share_url": _text(),
            "views_total": _count(nullable=False),
            "likes_total": _count(nullable=False),
            "comments_total": _count(nullable=False),
            "shares_total": _count(nullable=False),
            "favorites_total": _count(),
            "reach_total": _count(),
            "total_time_watched_s": _seconds(),
            "average_time_watched_s": _seconds(),
            "full_video_watched_rate": pa.Column("Float64", pa.Check.in_range(0, 1), nullable=True, coerce=True),
            "new_followers_total": _count(),
            "profile_views_total": _count(),
        },
        [_unique_within_pull("video_id"), pa.Check(_posted_before_seen, name="posted_before_seen")],
    ),
    "api_video_traffic_sources": _schema(
        {"metric_date": _date(), "video_id": _VIDEO_ID, "impression_source": _text(False), "share": _share()},
        [_unique_within_pull("video_id", "impression_source")],
    ),
    "api_video_audience_countries": _schema(
        {
            "metric_date": _date(),
            "video_id": _VIDEO_ID,
            "country": _text(False, pa.Check.str_matches(r"^([A-Z]{2}|Others)$")),
            "share": _share(),
        },
        [_unique_within_pull("video_id", "country")],
    ),
    "api_video_audience_types": _schema(
        {"metric_date": _date(), "video_id": _VIDEO_ID, "audience_type": _text(False), "share": _share()},
        [_unique_within_pull("video_id", "audience_type")],
    ),
    "api_business_daily": _schema(
        {
            "metric_date": _date(),
            **{
                c: _count()
                for c in (
                    "video_views",
                    "unique_video_views",
                    "profile_views",
                    "likes",
                    "comments",
                    "shares",
                    "bio_link_clicks",
                    "new_followers",
                    "lost_followers",
                    "followers_count",
                )
            },
            "net_followers": _count(can_be_negative=True),
        },
        [_unique_within_pull("metric_date")],
    ),
    "api_business_audience_activity": _schema(
        {
            "metric_date": _date(),
            "hour": pa.Column("Int64", pa.Check.in_range(0, 23), coerce=True),
            "active_followers": _count(nullable=False),
        },
        [_unique_within_pull("metric_date", "hour")],
    ),
    "api_account_audience": _schema(
        {
            "metric_date": _date(),
            "dimension": pa.Column(str, pa.Check.isin(["gender", "country", "age"]), nullable=False),
            "label": _text(False),
            "share": _share(),
        },
        [_unique_within_pull("dimension", "label")],
    ),
}


def data_columns(table: str) -> list[str]:
    """A raw table's own columns, in order, without the lineage columns every table shares."""
    return [column for column in API_CONTRACTS[table].columns if column not in LINEAGE_COLUMNS]


def validate(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The typed frame and a list of failures ("check on column: value"), empty when it passes."""
    try:
        return API_CONTRACTS[table].validate(frame, lazy=True), []
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        problems = []
        for _, case in cases.head(10).iterrows():
            column = "" if pd.isna(case.get("column")) else f" on {case['column']}"
            value = "" if pd.isna(case.get("failure_case")) else f": {str(case['failure_case'])[:60]!r}"
            index = "" if pd.isna(case.get("index")) else f" (row {int(case['index']) + 1})"
            problems.append(f"{case['check']}{column}{index}{value}")
        if len(cases) > 10:
            problems.append(f"… {len(cases) - 10} more")
        return frame, problems
