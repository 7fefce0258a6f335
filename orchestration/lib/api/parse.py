"""TikTok API responses → raw-table rows, driven by one declarative field map per API and table.

A `RowMap` says, for each raw column an API fills, which JSON key holds it, what kind of value it
must be and whether TikTok must send it (a `Field`, see `fields`); `_append` is the one interpreter.
Anything undocumented raises PullFailed naming the endpoint, the page item or list entry, the video
id and the field. A row gets exactly the columns of its table's pandera contract
(`schemas/api_contracts.py`, the definition of the raw tables): columns a map leaves out (Display
has no reach, Business no following count) are None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING

import pandas as pd

from orchestration.lib.api.fields import Field, PullFailed, read, read_list
from orchestration.lib.api.plan import PullPlan
from orchestration.lib.tiktok_api.config import AccountConfig
from schemas.api_contracts import API_CONTRACTS

if TYPE_CHECKING:
    from orchestration.lib.api.landing import EndpointPull


@dataclass(frozen=True)
class RowMap:
    """One JSON object → one row of `table`; with `list_key`, each object of that list → one row."""

    table: str
    fields: dict[str, Field]  # raw column → its JSON source, in the order they are checked
    constants: dict[str, str] = field(default_factory=dict)  # raw column → fixed value
    list_key: str | None = None
    list_required: bool = False

    def __post_init__(self) -> None:
        unknown = {*self.fields, *self.constants} - set(API_CONTRACTS[self.table].columns)
        if unknown:
            raise ValueError(f"{self.table} has no column(s) {sorted(unknown)} in schemas/api_contracts.py")


def _shares(table: str, list_key: str, label_column: str, label_key: str, **constants: str) -> RowMap:
    """A list of {label, percentage} objects (traffic sources, audience countries, ...)."""
    fields = {
        label_column: Field(label_key, "text", required=True),
        "share": Field("percentage", "number", required=True),
    }
    return RowMap(table, fields, constants, list_key=list_key)


# --- Display API v2 ------------------------------------------------------------------------------------

DISPLAY_USER = RowMap(  # user/info
    "api_user_snapshots",
    {
        "open_id": Field("open_id", "text"),
        "username": Field("username", "text"),
        "display_name": Field("display_name", "text"),
        "follower_count": Field("follower_count", "count", required=True),
        "following_count": Field("following_count", "count", required=True),
        "likes_count": Field("likes_count", "count", required=True),
        "video_count": Field("video_count", "count", required=True),
    },
    {"api": "display"},
)
DISPLAY_VIDEO = RowMap(  # each video/list item; post_date is created_at's day in the account's zone
    "api_video_snapshots",
    {
        "video_id": Field("id", "id", required=True),
        "created_at": Field("create_time", "epoch", required=True),
        "title": Field("title", "text"),
        "description": Field("video_description", "text"),
        "duration_s": Field("duration", "number"),
        "share_url": Field("share_url", "text"),
        "views_total": Field("view_count", "count", required=True),
        "likes_total": Field("like_count", "count", required=True),
        "comments_total": Field("comment_count", "count", required=True),
        "shares_total": Field("share_count", "count", required=True),
    },
    {"api": "display"},
)

# --- Business API ---------------------------------------------------------------------------------------

BUSINESS_DAY = RowMap(  # each business/get metrics[] entry, dated by TikTok (UTC)
    "api_business_daily",
    {
        "metric_date": Field("date", "date", required=True),
        "video_views": Field("video_views", "count"),
        "unique_video_views": Field("unique_video_views", "count"),
        "profile_views": Field("profile_views", "count"),
        "likes": Field("likes", "count"),
        "comments": Field("comments", "count"),
        "shares": Field("shares", "count"),
        "bio_link_clicks": Field("bio_link_clicks", "count"),
        "net_followers": Field("daily_total_followers", "signed"),
        "new_followers": Field("daily_new_followers", "count"),
        "lost_followers": Field("daily_lost_followers", "count"),
        "followers_count": Field("followers_count", "count"),
    },
    list_key="metrics",
    list_required=True,
)
BUSINESS_DAY_HOURS = RowMap(
    "api_business_audience_activity",
    {"hour": Field("hour", "count", required=True), "active_followers": Field("count", "count", required=True)},
    list_key="audience_activity",
)
BUSINESS_USER = RowMap(  # business/get; open_id is the configured business id
    "api_user_snapshots",
    {
        "username": Field("username", "text"),
        "display_name": Field("display_name", "text"),
        "follower_count": Field("followers_count", "count", required=True),
        "likes_count": Field("total_likes", "count"),
        "video_count": Field("videos_count", "count", required=True),
    },
    {"api": "business"},
)
BUSINESS_AUDIENCE = (  # business/get
    _shares("api_account_audience", "audience_genders", "label", "gender", dimension="gender"),
    _shares("api_account_audience", "audience_countries", "label", "country", dimension="country"),
    _shares("api_account_audience", "audience_ages", "label", "age", dimension="age"),
)
BUSINESS_VIDEO = RowMap(  # each business/video/list item
    "api_video_snapshots",
    {
        "video_id": Field("item_id", "id", required=True),
        "created_at": Field("create_time", "epoch", required=True),
        "title": Field("caption", "text"),
        "duration_s": Field("video_duration", "number"),
        "share_url": Field("share_url", "text"),
        "views_total": Field("video_views", "count", required=True),
        "likes_total": Field("likes", "count", required=True),
        "comments_total": Field("comments", "count", required=True),
        "shares_total": Field("shares", "count", required=True),
        "favorites_total": Field("favorites", "count"),
        "reach_total": Field("reach", "count"),
        "total_time_watched_s": Field("total_time_watched", "number"),
        "average_time_watched_s": Field("average_time_watched", "number"),
        "full_video_watched_rate": Field("full_video_watched_rate", "number"),
        "new_followers_total": Field("new_followers", "count"),
        "profile_views_total": Field("profile_views", "count"),
    },
    {"api": "business"},
)
BUSINESS_VIDEO_BREAKDOWNS = (  # lists inside each business/video/list item
    _shares("api_video_traffic_sources", "impression_sources", "impression_source", "impression_source"),
    _shares("api_video_audience_countries", "audience_countries", "country", "country"),
    _shares("api_video_audience_types", "audience_types", "audience_type", "type"),
)


# --- the interpreter ------------------------------------------------------------------------------------


@dataclass
class Parsed:
    frames: dict[str, pd.DataFrame]  # raw table → rows (tables without rows left out)
    videos_listed: int | None  # distinct videos in a snapshot's listing
    videos_expected: int | None  # what the profile counts


def parse(account: AccountConfig, plan: PullPlan, responses: dict, pulls: list[EndpointPull]) -> Parsed:
    """Rows of every raw table from one account pull's responses (`pulls`: the endpoint pulls made)."""
    rows: dict[str, list[dict]] = {table: [] for table in API_CONTRACTS}
    lineage = {
        pull.endpoint: {
            "document_id": pull.pull_id,
            "account_handle": account.handle,
            "export_date": pd.Timestamp(plan.local_date),
            "exported_at": pd.Timestamp(pull.pulled_at.replace(tzinfo=None)),
        }
        for pull in pulls
    }
    day = pd.Timestamp(plan.snapshot_date) if plan.snapshot_date else None
    snapshot = {endpoint: {**base, "metric_date": day} for endpoint, base in lineage.items()}
    if account.api == "display":
        _append(rows, DISPLAY_USER, responses["user_info"], "user_info", snapshot["user_info"])
        _videos(rows, account, responses["video_list"].items, "video_list", snapshot["video_list"])
    else:
        data = responses["business_get"]
        _business_daily(rows, data, plan, lineage["business_get"])
        if plan.purpose == "snapshot":
            base = snapshot["business_get"]
            _append(rows, BUSINESS_USER, data, "business_get", {**base, "open_id": account.business_id})
            for audience in BUSINESS_AUDIENCE:
                _append_list(rows, audience, data, "business_get", base)
            listing = responses["business_video_list"].items
            _videos(rows, account, listing, "business_video_list", snapshot["business_video_list"])
    users = rows["api_user_snapshots"]
    videos_expected = users[0]["video_count"] if users else None
    videos_listed = len({r["video_id"] for r in rows["api_video_snapshots"]}) if plan.purpose == "snapshot" else None
    frames = {}
    for table, table_rows in rows.items():
        if table_rows:
            columns = [c for c in API_CONTRACTS[table].columns if c != "source_row"]
            frame = pd.DataFrame([{c: row.get(c) for c in columns} for row in table_rows])
            frame["source_row"] = range(1, len(frame) + 1)
            frames[table] = frame
    return Parsed(frames, videos_listed, videos_expected)


def _videos(rows: dict, account: AccountConfig, items: list[dict], endpoint: str, base: dict) -> None:
    video_map = DISPLAY_VIDEO if account.api == "display" else BUSINESS_VIDEO
    breakdowns = () if account.api == "display" else BUSINESS_VIDEO_BREAKDOWNS
    seen = set()
    for index, video in enumerate(items, start=1):
        where = f"{endpoint} item {index}"
        video_id = read(video, video_map.fields["video_id"], where)
        if video_id in seen:  # listed again on a later page (pages shift as videos are posted): its first listing
            continue
        seen.add(video_id)
        where = f"{where} (id {video_id})"
        row = _append(rows, video_map, video, where, {**base, "video_id": video_id})
        row["post_date"] = pd.Timestamp(row["created_at"].tz_localize(UTC).tz_convert(account.timezone).date())
        for breakdown in breakdowns:
            _append_list(rows, breakdown, video, where, {**base, "video_id": video_id})


def _business_daily(rows: dict, data: dict, plan: PullPlan, base: dict) -> None:
    for index, day in enumerate(read_list(data, BUSINESS_DAY.list_key, "business_get", True), start=1):
        where = f"business_get metrics[{index}]"
        metric_date = read(day, BUSINESS_DAY.fields["metric_date"], where).date()
        if not plan.metrics_start <= metric_date <= plan.metrics_end:
            raise PullFailed(
                f"{where}: date {metric_date} lies outside the requested {plan.metrics_start}..{plan.metrics_end}"
            )
        _append(rows, BUSINESS_DAY, day, where, base)
        _append_list(rows, BUSINESS_DAY_HOURS, day, where, {**base, "metric_date": pd.Timestamp(metric_date)})


def _append(rows: dict, row_map: RowMap, obj: dict, where: str, base: dict) -> dict:
    row = {**base, **row_map.constants, **{c: read(obj, f, where) for c, f in row_map.fields.items()}}
    rows[row_map.table].append(row)
    return row


def _append_list(rows: dict, row_map: RowMap, obj: dict, where: str, base: dict) -> None:
    for index, item in enumerate(read_list(obj, row_map.list_key, where, row_map.list_required), start=1):
        _append(rows, row_map, item, f"{where} {row_map.list_key}[{index}]", base)
