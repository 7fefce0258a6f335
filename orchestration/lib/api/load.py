"""Publishing one account pull: the completeness check, the load, and the pull log.

- A snapshot whose listing holds fewer videos than the profile counts is held back unless the gap is
  explained (videos seen before and gone now, or declared `unlisted_videos`).
- Rows replace this account's rows of the pulled days (snapshot day, or TikTok's dates for daily
  metrics) in one transaction; when nothing differs, nothing is written (status `unchanged`).
- Every endpoint pull gets a row in `raw.api_pulls`, published or not.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from orchestration.lib.api.plan import PullPlan
from orchestration.lib.core.dbt_selection import record_changed_sources
from orchestration.lib.core.dbt_vars import account_handles, handle_aliases
from orchestration.lib.core.warehouse import API_RAW_TABLE_COLUMNS, record_pending_min_date
from orchestration.lib.tiktok_api.config import AccountConfig
from orchestration.lib.tiktok_api.redact import redact
from schemas.api_contracts import data_columns

if TYPE_CHECKING:
    from orchestration.lib.api.landing import AccountPull

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


def unexplained_shortfall(
    con: duckdb.DuckDBPyConnection, account: AccountConfig, plan: PullPlan, frames: dict, result: AccountPull
) -> str | None:
    """Why a listing with fewer videos than the profile counts cannot be published, or None."""
    if plan.purpose != "snapshot" or result.videos_expected is None:
        return None
    listed, expected = result.videos_listed or 0, result.videos_expected
    if listed >= expected:
        return None
    listed_ids = set(frames["api_video_snapshots"]["video_id"]) if "api_video_snapshots" in frames else set()
    # the account's listings under any of its handles (a creator who changed handle: account_handle_aliases)
    handles = account_handles(account.handle, handle_aliases())
    previous = con.execute(
        """select distinct video_id from raw.api_video_snapshots
        where list_contains($handles, account_handle) and metric_date = (
            select max(metric_date) from raw.api_video_snapshots
            where list_contains($handles, account_handle) and metric_date < $day)""",
        {"handles": handles, "day": plan.snapshot_date},
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


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection):
    con.execute("begin transaction")
    try:
        yield
    except Exception:
        con.execute("rollback")
        raise
    con.execute("commit")


def load(
    con: duckdb.DuckDBPyConnection, account: AccountConfig, plan: PullPlan, frames: dict, result: AccountPull
) -> str:
    """Replace this account's rows for the pulled days in one transaction; 'unchanged' if identical."""
    daily = frames.get("api_business_daily")
    daily_dates = sorted({ts.date() for ts in daily["metric_date"]}) if daily is not None else []
    result.metric_dates = sorted({*daily_dates, *([plan.snapshot_date] if plan.snapshot_date else [])})
    targets = [(t, [plan.snapshot_date]) for t in SNAPSHOT_TABLES if plan.snapshot_date]
    targets += [(t, daily_dates) for t in DAILY_TABLES if daily_dates]
    with _transaction(con):
        changed = False
        for table, dates in targets:
            changed |= _replace_if_different(con, table, frames.get(table), account.handle, dates)
        if changed:  # in the rows' transaction: a crash after it cannot leave them out of the next build
            # a changed pull replaces the account's rows of its days in any API table (some perhaps by none): all
            first = result.metric_dates[0] if result.metric_dates else None
            record_changed_sources(con, API_RAW_TABLE_COLUMNS, dict.fromkeys(API_RAW_TABLE_COLUMNS, first))
            if first is not None:
                record_pending_min_date(con, first)
    for pull in result.endpoints:
        pull.rows = (
            sum(int((frame["document_id"] == pull.pull_id).sum()) for frame in frames.values()) if changed else 0
        )
    return "complete" if changed else "unchanged"


def _replace_if_different(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | None, handle: str, dates: list
) -> bool:
    """Replace the account's rows of `dates` in `table` by `frame` unless they are the same rows already."""
    incoming = f"incoming_{table}"
    con.execute(f"create or replace temp table {incoming} as select * from raw.{table} limit 0")
    if frame is not None and len(frame):
        con.register("incoming_frame", frame)
        con.execute(f"insert into {incoming} by name select * from incoming_frame")
        con.unregister("incoming_frame")
    columns = ", ".join(data_columns(table))  # lineage aside: a rerun with the same numbers is no change
    existing = (
        f"select {columns} from raw.{table} where account_handle = $handle and list_contains($dates, metric_date)"
    )
    params = {"handle": handle, "dates": dates}
    difference = con.execute(
        f"select count(*) from (({existing}) except all (select {columns} from {incoming})) "
        "union all "
        f"select count(*) from ((select {columns} from {incoming}) except all ({existing}))",
        params,
    ).fetchall()
    changed = any(count for (count,) in difference)
    if changed:
        con.execute(
            f"delete from raw.{table} where account_handle = $handle and list_contains($dates, metric_date)", params
        )
        con.execute(f"insert into raw.{table} by name select * from {incoming}")
    con.execute(f"drop table {incoming}")
    return changed


def record_pulls(con: duckdb.DuckDBPyConnection, account: AccountConfig, plan: PullPlan, result: AccountPull) -> None:
    """One `raw.api_pulls` row per endpoint pull (insert or replace by pull_id)."""
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
        with _transaction(con):  # recorded with its rows, as `load` does: a crash cannot leave them unbuilt
            con.executemany(f"insert or replace into raw.api_pulls values ({', '.join('?' * 21)})", rows)
            record_changed_sources(con, ["api_pulls"])
