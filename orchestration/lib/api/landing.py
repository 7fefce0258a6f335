"""TikTok API pulls → immutable archive → validated raw tables, one account at a time.

One *account pull* takes a snapshot of an account (Display: `user/info` + every page of
`video/list`; Business: `business/get` + every page of `business/video/list`) and, for Business
accounts, re-reads the recent daily metrics `business/get` still holds. A backfill pull of a past
day reads only those daily metrics: a snapshot endpoint shows today's numbers, so it cannot fill a
past day, and a request to do so fails before any network call.

Dates, never taken from a Dagster partition key or from when a job started:
- a snapshot's `metric_date` is the calendar day, in the account's time zone, on which the pull
  started (the counts observed that day);
- daily metrics keep the UTC date TikTok gives them.

Rules:
- Every response is archived exactly as received (tokens masked), one file per account, endpoint and
  pull, wrapped with the request parameters and pull times, under `<data>/raw/archive/api/`, and
  listed in `raw/archive/api/manifest.jsonl` and `raw.api_pulls` — also when the pull failed.
- A pull lands all or nothing: when any page fails, a body is not the documented envelope, a field
  is missing, a contract fails, or the listing holds fewer videos than the profile counts without a
  reason, nothing of that account and day is loaded and the pull is recorded as failed/incomplete.
- Loads replace per (account, metric_date) in one transaction, so a rerun never doubles anything;
  a rerun that received the same numbers changes no row at all (status `unchanged`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.warehouse import API_RAW_TABLE_COLUMNS, record_pending_min_date
from orchestration.lib.tiktok_api.business import BusinessSession
from orchestration.lib.tiktok_api.common import ApiSession, Listing
from orchestration.lib.tiktok_api.config import BUSINESS_MAX_LOOKBACK_DAYS, AccountConfig, ApiConfig
from orchestration.lib.tiktok_api.display import DisplaySession
from orchestration.lib.tiktok_api.http import HttpClient
from orchestration.lib.tiktok_api.redact import contains_secret, redact, redact_value
from orchestration.lib.tiktok_api.tokens import TokenManager, business_refresher, display_refresher
from schemas.api_contracts import validate

ARCHIVE_FORMAT = "tiktok-api-pull/1"
# Tables replaced per (account, snapshot day) vs per (account, TikTok date).
SNAPSHOT_TABLES = (
    "api_user_snapshots",
    "api_video_snapshots",
    "api_video_traffic_sources",
    "api_video_audience_countries",
    "api_video_audience_types",
    "api_account_audience",
)
DAILY_TABLES = ("api_business_daily", "api_business_audience_activity")


class SnapshotDayError(ValueError):
    """A pull was asked for a day its endpoints cannot describe (a past day for a snapshot)."""


class PullFailed(RuntimeError):
    """Raised by the parser: a response without a documented field (message names page and item)."""


# --- planning: what a pull asks for, decided from the clock and the account's time zone ----------


@dataclass(frozen=True)
class PullPlan:
    purpose: str  # snapshot | daily_metrics
    local_date: date  # the account-local day on which the pull runs
    snapshot_date: date | None  # metric_date of the snapshot rows (= local_date) or None
    metrics_start: date | None  # business/get window, UTC dates
    metrics_end: date | None


def plan_pull(account: AccountConfig, config: ApiConfig, now: datetime, requested_day: date | None = None) -> PullPlan:
    """What to pull for `requested_day` (None: today's snapshot); raises SnapshotDayError."""
    local_today = now.astimezone(account.zone).date()
    utc_today = now.astimezone(UTC).date()
    if requested_day is None or requested_day == local_today:
        start = end = None
        if account.api == "business":
            end = utc_today - timedelta(days=1)
            start = end - timedelta(days=config.business_lookback_days - 1)
        return PullPlan("snapshot", local_today, local_today, start, end)
    if requested_day > local_today:
        raise SnapshotDayError(
            f"@{account.handle}: {requested_day} has not begun in {account.timezone} (today there is "
            f"{local_today}); nothing can be pulled for it yet"
        )
    if account.api == "display":
        raise SnapshotDayError(
            f"@{account.handle}: the Display API only has snapshot endpoints (user/info, video/list), "
            f"which show today's numbers; they cannot fill {requested_day} (today in {account.timezone} "
            f"is {local_today}). "
            "Nothing was pulled: booking today's counts on a past date would be wrong."
        )
    oldest = utc_today - timedelta(days=BUSINESS_MAX_LOOKBACK_DAYS)
    if requested_day < oldest:
        raise SnapshotDayError(
            f"@{account.handle}: business/get keeps daily metrics for about {BUSINESS_MAX_LOOKBACK_DAYS} "
            f"days; {requested_day} is older than {oldest}. Profile and video snapshots cannot fill a past "
            "day either."
        )
    return PullPlan("daily_metrics", local_today, None, requested_day, requested_day)


# --- results ---------------------------------------------------------------------------------------


@dataclass
class EndpointPull:
    endpoint: str
    pull_id: str
    pulled_at: datetime
    finished_at: datetime | None = None
    pages: int = 0
    http_requests: int = 0
    archive_path: str | None = None
    archive_sha256: str | None = None
    rows: int = 0


@dataclass
class AccountPull:
    handle: str
    api: str
    plan: PullPlan | None
    status: str = "failed"  # complete | unchanged | incomplete | failed
    reason: str | None = None
    endpoints: list[EndpointPull] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    videos_listed: int | None = None
    videos_expected: int | None = None
    metric_dates: list[date] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.status in ("complete", "unchanged")

    def summary(self) -> dict:
        """JSON-safe, secret-free summary for Dagster metadata and logs."""
        return {
            "account": self.handle,
            "api": self.api,
            "purpose": self.plan.purpose if self.plan else None,
            "snapshot_date": self.plan.snapshot_date.isoformat() if self.plan and self.plan.snapshot_date else None,
            "status": self.status,
            "reason": redact(self.reason) if self.reason else None,
            "rows": self.rows_by_table,
            "videos_listed": self.videos_listed,
            "videos_expected": self.videos_expected,
            "http_requests": sum(e.http_requests for e in self.endpoints),
            "archive": [e.archive_path for e in self.endpoints if e.archive_path],
        }


# --- the pull ----------------------------------------------------------------------------------------


def pull_account(
    paths: DataPaths,
    con: duckdb.DuckDBPyConnection,
    config: ApiConfig,
    account: AccountConfig,
    *,
    requested_day: date | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> AccountPull:
    """Pull, archive, validate and load one account; never raises for API faults (see `status`).

    Raises SnapshotDayError (before any network call) when `requested_day` cannot be pulled.
    """
    started = now().astimezone(UTC)
    plan = plan_pull(account, config, started, requested_day)
    result = AccountPull(account.handle, account.api, plan)
    session = _session(account, config, now, sleep)
    responses: dict[str, object] = {}
    current: EndpointPull | None = None
    try:
        for endpoint, fetch in _steps(session, plan):
            current = _begin(result, account, endpoint, now())
            before = len(session.exchanges)
            try:
                responses[endpoint] = fetch()
            finally:
                current.finished_at = now().astimezone(UTC)
                current.http_requests = sum(1 for name, _ in session.exchanges[before:] if name == endpoint)
                listing = session.listings.get(endpoint)
                current.pages = listing.pages if listing is not None else int(endpoint in responses)
        current = None  # every response arrived: a fault from here on is about their content
        frames, result.videos_listed, result.videos_expected = _parse(account, plan, result, responses)
        problems = []
        for table, frame in frames.items():
            frames[table], failures = validate(table, frame)
            problems += [f"{table}: {failure}" for failure in failures]
        if problems:
            raise PullFailed("contract failed: " + "; ".join(problems[:5]))
        shortfall = _unexplained_shortfall(con, account, plan, frames, result)
        if shortfall:
            result.status, result.reason = "incomplete", shortfall
        else:
            result.status = _load(con, account, plan, frames, result)
    except Exception as error:  # noqa: BLE001 - every fault of one account is recorded, never propagated
        broke_off = _broke_off_listing(error, current, session)
        result.status = "incomplete" if broke_off else "failed"
        where = f"{current.endpoint}: " if current is not None else ""
        if broke_off:
            where = f"{current.endpoint} stopped after {session.listings[current.endpoint].pages} page(s): "
        result.reason = redact(f"{where}{type(error).__name__}: {error}")
    finally:
        _archive(paths, account, plan, result, session)
        _record_pulls(con, account, plan, result)
    return result


def pull_all(
    paths: DataPaths,
    con: duckdb.DuckDBPyConnection,
    config: ApiConfig,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> list[AccountPull]:
    """Today's snapshot of every configured account; one account's failure never stops the others."""
    return [pull_account(paths, con, config, account, now=now, sleep=sleep) for account in config.accounts]


def _session(account: AccountConfig, config: ApiConfig, now, sleep) -> ApiSession:
    refresher = (display_refresher if account.api == "display" else business_refresher)(
        account, config.http, sleep=sleep
    )
    tokens = TokenManager(account.token_file, refresher, now=now)
    holder: list[ApiSession] = []
    http = HttpClient(config.http, sleep=sleep, recorder=lambda exchange: holder[0].record(exchange))
    session = (DisplaySession if account.api == "display" else BusinessSession)(account, tokens, http)
    holder.append(session)
    return session


def _steps(session: ApiSession, plan: PullPlan) -> list[tuple[str, Callable[[], object]]]:
    if isinstance(session, DisplaySession):
        # video/list first: a video posted between the two calls then raises the count, never lowers it
        return [("video_list", session.video_list), ("user_info", session.user_info)]
    assert isinstance(session, BusinessSession)
    account_data = ("business_get", lambda: session.account_data(plan.metrics_start, plan.metrics_end))
    if plan.purpose == "daily_metrics":
        return [account_data]
    return [("business_video_list", session.video_list), account_data]


def _begin(result: AccountPull, account: AccountConfig, endpoint: str, moment: datetime) -> EndpointPull:
    moment = moment.astimezone(UTC)
    # unique even for two pulls in the same microsecond (the archive never overwrites a file)
    digest = hashlib.sha256(f"{account.handle}|{endpoint}|{moment.isoformat()}|{uuid.uuid4()}".encode()).hexdigest()[
        :20
    ]
    pull = EndpointPull(endpoint=endpoint, pull_id=f"api-{digest}", pulled_at=moment)
    result.endpoints.append(pull)
    return pull


def _broke_off_listing(error: Exception, current: EndpointPull | None, session: ApiSession) -> bool:
    """A listing that broke off after at least one page: the snapshot is incomplete, not just failed."""
    if getattr(error, "kind", "") == "pagination":
        return True
    listing = session.listings.get(current.endpoint) if current is not None else None
    return listing is not None and current.finished_at is not None and listing.pages >= 1 and not listing.ended_by_api


# --- parsing: responses → rows, refusing anything undocumented ------------------------------------


def _parse(account: AccountConfig, plan: PullPlan, result: AccountPull, responses: dict):
    by_endpoint = {e.endpoint: e for e in result.endpoints}
    rows: dict[str, list[dict]] = {table: [] for table in API_RAW_TABLE_COLUMNS}
    videos_listed = videos_expected = None

    def lineage(endpoint: str) -> dict:
        pull = by_endpoint[endpoint]
        return {
            "document_id": pull.pull_id,
            "account_handle": account.handle,
            "export_date": pd.Timestamp(plan.local_date),
            "exported_at": pd.Timestamp(pull.pulled_at.replace(tzinfo=None)),
        }

    snapshot_day = pd.Timestamp(plan.snapshot_date) if plan.snapshot_date else None
    if account.api == "display":
        listing: Listing = responses["video_list"]
        user = responses["user_info"]
        where = "user_info"
        rows["api_user_snapshots"].append(
            {
                **lineage("user_info"),
                "api": "display",
                "metric_date": snapshot_day,
                "open_id": _text(user, "open_id", where),
                "username": _text(user, "username", where),
                "display_name": _text(user, "display_name", where),
                "follower_count": _count(user, "follower_count", where, required=True),
                "following_count": _count(user, "following_count", where, required=True),
                "likes_count": _count(user, "likes_count", where, required=True),
                "video_count": _count(user, "video_count", where, required=True),
            }
        )
        videos_expected = rows["api_user_snapshots"][0]["video_count"]
        for index, video in enumerate(listing.items, start=1):
            where = f"video_list item {index}"
            video_id = _video_id(video, "id", where)
            created = _epoch(video, "create_time", f"{where} (id {video_id})")
            rows["api_video_snapshots"].append(
                {
                    **lineage("video_list"),
                    "api": "display",
                    "metric_date": snapshot_day,
                    "video_id": video_id,
                    "created_at": created,
                    "post_date": _local_date(created, account),
                    "title": _text(video, "title", where),
                    "description": _text(video, "video_description", where),
                    "duration_s": _number(video, "duration", where),
                    "share_url": _text(video, "share_url", where),
                    "views_total": _count(video, "view_count", where, required=True),
                    "likes_total": _count(video, "like_count", where, required=True),
                    "comments_total": _count(video, "comment_count", where, required=True),
                    "shares_total": _count(video, "share_count", where, required=True),
                    **dict.fromkeys(
                        (
                            "favorites_total",
                            "reach_total",
                            "total_time_watched_s",
                            "average_time_watched_s",
                            "full_video_watched_rate",
                            "new_followers_total",
                            "profile_views_total",
                        )
                    ),
                }
            )
    else:
        data = responses["business_get"]
        _business_daily(rows, data, plan, lineage("business_get"))
        if plan.purpose == "snapshot":
            where = "business_get"
            rows["api_user_snapshots"].append(
                {
                    **lineage("business_get"),
                    "api": "business",
                    "metric_date": snapshot_day,
                    "open_id": account.business_id,
                    "username": _text(data, "username", where),
                    "display_name": _text(data, "display_name", where),
                    "follower_count": _count(data, "followers_count", where, required=True),
                    "following_count": None,
                    "likes_count": _count(data, "total_likes", where),
                    "video_count": _count(data, "videos_count", where, required=True),
                }
            )
            videos_expected = rows["api_user_snapshots"][0]["video_count"]
            for dimension, key, label_key in (
                ("gender", "audience_genders", "gender"),
                ("country", "audience_countries", "country"),
                ("age", "audience_ages", "age"),
            ):
                for index, item in enumerate(_list(data, key, where), start=1):
                    item_where = f"{where} {key}[{index}]"
                    rows["api_account_audience"].append(
                        {
                            **lineage("business_get"),
                            "metric_date": snapshot_day,
                            "dimension": dimension,
                            "label": _text(item, label_key, item_where, required=True),
                            "share": _number(item, "percentage", item_where, required=True),
                        }
                    )
            listing = responses["business_video_list"]
            for index, video in enumerate(listing.items, start=1):
                where = f"business_video_list item {index}"
                video_id = _video_id(video, "item_id", where)
                where = f"{where} (id {video_id})"
                created = _epoch(video, "create_time", where)
                base = {**lineage("business_video_list"), "metric_date": snapshot_day, "video_id": video_id}
                rows["api_video_snapshots"].append(
                    {
                        **base,
                        "api": "business",
                        "created_at": created,
                        "post_date": _local_date(created, account),
                        "title": _text(video, "caption", where),
                        "description": None,
                        "duration_s": _number(video, "video_duration", where),
                        "share_url": _text(video, "share_url", where),
                        "views_total": _count(video, "video_views", where, required=True),
                        "likes_total": _count(video, "likes", where, required=True),
                        "comments_total": _count(video, "comments", where, required=True),
                        "shares_total": _count(video, "shares", where, required=True),
                        "favorites_total": _count(video, "favorites", where),
                        "reach_total": _count(video, "reach", where),
                        "total_time_watched_s": _number(video, "total_time_watched", where),
                        "average_time_watched_s": _number(video, "average_time_watched", where),
                        "full_video_watched_rate": _number(video, "full_video_watched_rate", where),
                        "new_followers_total": _count(video, "new_followers", where),
                        "profile_views_total": _count(video, "profile_views", where),
                    }
                )
                for table, key, label_column, label_key in (
                    (
                        "api_video_traffic_sources",
                        "impression_sources",
                        "impression_source",
                        "impression_source",
                    ),
                    ("api_video_audience_countries", "audience_countries", "country", "country"),
                    ("api_video_audience_types", "audience_types", "audience_type", "type"),
                ):
                    for item_index, item in enumerate(_list(video, key, where), start=1):
                        item_where = f"{where} {key}[{item_index}]"
                        rows[table].append(
                            {
                                **base,
                                label_column: _text(item, label_key, item_where, required=True),
                                "share": _number(item, "percentage", item_where, required=True),
                            }
                        )
    if plan.purpose == "snapshot":
        videos_listed = len({r["video_id"] for r in rows["api_video_snapshots"]})
    frames = {}
    for table, table_rows in rows.items():
        if not table_rows:
            continue
        frame = pd.DataFrame(table_rows)
        frame["source_row"] = range(1, len(frame) + 1)
        frames[table] = frame
        result.rows_by_table[table] = len(frame)
    return frames, videos_listed, videos_expected


def _business_daily(rows: dict, data: dict, plan: PullPlan, lineage: dict) -> None:
    metrics = _list(data, "metrics", "business_get", required=True)
    for index, day in enumerate(metrics, start=1):
        where = f"business_get metrics[{index}]"
        metric_date = _iso_date(day, "date", where)
        if not plan.metrics_start <= metric_date <= plan.metrics_end:
            raise PullFailed(
                f"{where}: date {metric_date} lies outside the requested {plan.metrics_start}..{plan.metrics_end}"
            )
        stamp = pd.Timestamp(metric_date)
        rows["api_business_daily"].append(
            {
                **lineage,
                "metric_date": stamp,
                "video_views": _count(day, "video_views", where),
                "unique_video_views": _count(day, "unique_video_views", where),
                "profile_views": _count(day, "profile_views", where),
                "likes": _count(day, "likes", where),
                "comments": _count(day, "comments", where),
                "shares": _count(day, "shares", where),
                "bio_link_clicks": _count(day, "bio_link_clicks", where),
                "net_followers": _count(day, "daily_total_followers", where, signed=True),
                "new_followers": _count(day, "daily_new_followers", where),
                "lost_followers": _count(day, "daily_lost_followers", where),
                "followers_count": _count(day, "followers_count", where),
            }
        )
        for hour_index, hour in enumerate(_list(day, "audience_activity", where), start=1):
            hour_where = f"{where} audience_activity[{hour_index}]"
            rows["api_business_audience_activity"].append(
                {
                    **lineage,
                    "metric_date": stamp,
                    "hour": _count(hour, "hour", hour_where, required=True),
                    "active_followers": _count(hour, "count", hour_where, required=True),
                }
            )


def _missing(where: str, key: str) -> PullFailed:
    return PullFailed(f"{where}: field `{key}` is missing")


def _count(obj: dict, key: str, where: str, *, required: bool = False, signed: bool = False) -> int | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise _missing(where, key)
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PullFailed(f"{where}: `{key}` is not a whole number")
    if value < 0 and not signed:
        raise PullFailed(f"{where}: `{key}` is negative ({value})")
    return value


def _number(obj: dict, key: str, where: str, *, required: bool = False) -> float | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise _missing(where, key)
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise PullFailed(f"{where}: `{key}` is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PullFailed(f"{where}: `{key}` is not a number")
    return float(value)


def _text(obj: dict, key: str, where: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _missing(where, key)
        return None
    if not isinstance(value, str | int):
        raise PullFailed(f"{where}: `{key}` is not text")
    return str(value)


def _list(obj: dict, key: str, where: str, *, required: bool = False) -> list[dict]:
    value = obj.get(key)
    if value is None:
        if required:
            raise _missing(where, key)
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PullFailed(f"{where}: `{key}` is not a list of objects")
    return value


def _video_id(obj: dict, key: str, where: str) -> str:
    value = obj.get(key)
    if value is None:
        raise _missing(where, key)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).isdigit():
        raise PullFailed(f"{where}: `{key}` is not a numeric id")
    return str(value)


def _epoch(obj: dict, key: str, where: str) -> pd.Timestamp:
    """UTC epoch seconds, as an integer or a string of digits (Business client models differ)."""
    seconds = _count(obj, key, where, required=True)
    return pd.Timestamp(datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None))


def _iso_date(obj: dict, key: str, where: str) -> date:
    value = _text(obj, key, where, required=True)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise PullFailed(f"{where}: `{key}` is not a YYYY-MM-DD date") from None


def _local_date(created: pd.Timestamp, account: AccountConfig) -> pd.Timestamp:
    return pd.Timestamp(created.tz_localize(UTC).tz_convert(account.timezone).date())


# --- completeness ------------------------------------------------------------------------------------


def _unexplained_shortfall(
    con, account: AccountConfig, plan: PullPlan, frames: dict, result: AccountPull
) -> str | None:
    """Why a listing with fewer videos than the profile counts cannot be published, or None."""
    if plan.purpose != "snapshot" or result.videos_expected is None:
        return None
    listed, expected = result.videos_listed or 0, result.videos_expected
    if listed >= expected:
        return None
    listed_ids = set(frames["api_video_snapshots"]["video_id"]) if "api_video_snapshots" in frames else set()
    previous = con.execute(
        """select distinct video_id from raw.api_video_snapshots
        where account_handle = ? and metric_date = (
            select max(metric_date) from raw.api_video_snapshots
            where account_handle = ? and metric_date < ?)""",
        [account.handle, account.handle, plan.snapshot_date],
    ).fetchall()
    gone = len({video for (video,) in previous} - listed_ids)
    explained = account.unlisted_videos + gone
    if expected - listed <= explained:
        return None
    endpoint = "video/list" if account.api == "display" else "business/video/list"
    return (
        f"{endpoint} listed {listed} videos but the profile counts {expected}; {gone} of the difference are "
        f"videos seen before and gone now, {account.unlisted_videos} are declared unlisted. If the account "
        f"has private videos, set `unlisted_videos: {expected - listed - gone}` for @{account.handle} in "
        f"accounts.yml (line {account.line})."
    )


# --- loading ------------------------------------------------------------------------------------------


def _load(con, account: AccountConfig, plan: PullPlan, frames: dict, result: AccountPull) -> str:
    """Replace this account's rows for the pulled days in one transaction; 'unchanged' if identical."""
    daily = frames.get("api_business_daily")
    daily_dates = sorted({ts.date() for ts in daily["metric_date"]}) if daily is not None else []
    result.metric_dates = sorted({*daily_dates, *([plan.snapshot_date] if plan.snapshot_date else [])})
    targets = [(t, [plan.snapshot_date]) for t in SNAPSHOT_TABLES if plan.snapshot_date]
    targets += [(t, daily_dates) for t in DAILY_TABLES if daily_dates]
    con.execute("begin transaction")
    try:
        changed = False
        for table, dates in targets:
            incoming = f"incoming_{table}"
            con.execute(f"create or replace temp table {incoming} as select * from raw.{table} limit 0")
            frame = frames.get(table)
            if frame is not None and len(frame):
                con.register("incoming_frame", frame)
                con.execute(f"insert into {incoming} by name select * from incoming_frame")
                con.unregister("incoming_frame")
            columns = ", ".join(c.split()[0] for c in API_RAW_TABLE_COLUMNS[table].split(", "))
            existing = (
                f"select {columns} from raw.{table} where account_handle = $handle "
                "and list_contains($dates, metric_date)"
            )
            params = {"handle": account.handle, "dates": dates}
            difference = con.execute(
                f"select count(*) from (({existing}) except all (select {columns} from {incoming})) "
                "union all "
                f"select count(*) from ((select {columns} from {incoming}) except all ({existing}))",
                params,
            ).fetchall()
            if any(count for (count,) in difference):
                changed = True
                con.execute(
                    f"delete from raw.{table} where account_handle = $handle and list_contains($dates, metric_date)",
                    params,
                )
                con.execute(f"insert into raw.{table} by name select * from {incoming}")
            con.execute(f"drop table {incoming}")
        if changed and result.metric_dates:
            record_pending_min_date(con, result.metric_dates[0])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    for pull in result.endpoints:
        pull.rows = (
            sum(int((frame["document_id"] == pull.pull_id).sum()) for frame in frames.values()) if changed else 0
        )
    return "complete" if changed else "unchanged"


def _record_pulls(con, account: AccountConfig, plan: PullPlan, result: AccountPull) -> None:
    landed_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            pull.pull_id,
            account.handle,
            account.api,
            pull.endpoint,
            plan.purpose,
            plan.snapshot_date,
            plan.metrics_start if pull.endpoint == "business_get" else None,
            plan.metrics_end if pull.endpoint == "business_get" else None,
            account.timezone,
            pull.pulled_at.replace(tzinfo=None),
            pull.finished_at.replace(tzinfo=None) if pull.finished_at else None,
            result.status,
            pull.pages,
            pull.http_requests,
            pull.rows,
            result.videos_listed if pull.endpoint.endswith("video_list") else None,
            result.videos_expected if pull.endpoint.endswith("video_list") else None,
            redact(result.reason) if result.reason else None,
            pull.archive_path,
            pull.archive_sha256,
            landed_at,
        )
        for pull in result.endpoints
    ]
    if rows:
        con.executemany(f"insert or replace into raw.api_pulls values ({', '.join('?' * 21)})", rows)


# --- the archive ---------------------------------------------------------------------------------------


def api_archive_dir(paths: DataPaths) -> Path:
    return paths.archive / "api"


def _archive(
    paths: DataPaths, account: AccountConfig, plan: PullPlan, result: AccountPull, session: ApiSession
) -> None:
    """One read-only JSON file per endpoint pull: request parameters, pull times, responses as received."""
    folder = api_archive_dir(paths)
    manifest_rows = []
    for pull in result.endpoints:
        exchanges = [exchange.to_json() for name, exchange in session.exchanges if name == pull.endpoint]
        redacted = False
        for record in exchanges:
            response = record.get("response") or {}
            text = response.get("body_text")
            if text is not None and contains_secret(text):
                response["body_text"], redacted = redact(text), True  # a secret beats byte-exactness
        wrapper = {
            "format": ARCHIVE_FORMAT,
            "pull_id": pull.pull_id,
            "account_handle": account.handle,
            "api": account.api,
            "endpoint": pull.endpoint,
            "purpose": plan.purpose,
            "timezone": account.timezone,
            "local_date": plan.local_date.isoformat(),
            "snapshot_date": plan.snapshot_date.isoformat() if plan.snapshot_date else None,
            "requested_metrics_window": [plan.metrics_start.isoformat(), plan.metrics_end.isoformat()]
            if plan.metrics_start and pull.endpoint == "business_get"
            else None,
            "pulled_at": pull.pulled_at.isoformat(timespec="microseconds"),
            "finished_at": pull.finished_at.isoformat(timespec="microseconds") if pull.finished_at else None,
            "status": result.status,
            "reason": redact(result.reason) if result.reason else None,
            "bodies_redacted": redacted,
            "exchanges": redact_value(exchanges) if redacted else _mask_requests(exchanges),
        }
        data = (json.dumps(wrapper, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        sha = hashlib.sha256(data).hexdigest()
        relative = Path(
            account.api,
            account.handle,
            pull.endpoint,
            plan.local_date.isoformat(),
            f"{pull.pulled_at:%Y%m%dT%H%M%S%fZ}_{pull.pull_id}.json",
        )
        _store_bytes(folder / relative, data)
        pull.archive_path = (Path("api") / relative).as_posix()
        pull.archive_sha256 = sha
        manifest_rows.append(
            {
                "sha256": sha,
                "archive_path": pull.archive_path,
                "pull_id": pull.pull_id,
                "account_handle": account.handle,
                "api": account.api,
                "endpoint": pull.endpoint,
                "pulled_at": wrapper["pulled_at"],
                "status": result.status,
                "size_bytes": len(data),
            }
        )
    if manifest_rows:
        manifest = folder / "manifest.jsonl"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        with manifest.open("a", encoding="utf-8") as handle:
            for row in manifest_rows:
                handle.write(json.dumps(row, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _mask_requests(exchanges: list[dict]) -> list[dict]:
    """Requests were recorded without secrets already; masked once more as a belt-and-braces measure."""
    for record in exchanges:
        record["request"] = redact_value(record["request"])
    return exchanges


def _store_bytes(destination: Path, data: bytes) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".incoming")
    with temporary.open("wb") as writer:
        writer.write(data)
        writer.flush()
        os.fsync(writer.fileno())
    os.chmod(temporary, 0o444)
    os.replace(temporary, destination)
