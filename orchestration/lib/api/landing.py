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

This module runs a pull; `plan` decides what to ask for, `parse` turns responses into rows (one
declarative field map per API; value kinds in `fields`), `archive` writes the archive files, `load`
checks completeness, loads and logs the pulls.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb

from orchestration.lib.api.archive import archive_pulls
from orchestration.lib.api.fields import PullFailed
from orchestration.lib.api.load import load, record_pulls, unexplained_shortfall
from orchestration.lib.api.parse import parse
from orchestration.lib.api.plan import PullPlan, SnapshotDayError, plan_pull
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.tiktok_api.business import BusinessSession
from orchestration.lib.tiktok_api.common import ApiSession
from orchestration.lib.tiktok_api.config import AccountConfig, ApiConfig
from orchestration.lib.tiktok_api.display import DisplaySession
from orchestration.lib.tiktok_api.http import HttpClient
from orchestration.lib.tiktok_api.redact import redact
from orchestration.lib.tiktok_api.tokens import TokenManager, business_refresher, display_refresher
from schemas.api_contracts import validate

__all__ = ["AccountPull", "EndpointPull", "PullPlan", "SnapshotDayError", "plan_pull", "pull_account", "pull_all"]


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
        for endpoint, fetch in pull_steps(session, plan):
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
        parsed = parse(account, plan, responses, result.endpoints)
        frames = parsed.frames
        result.videos_listed, result.videos_expected = parsed.videos_listed, parsed.videos_expected
        result.rows_by_table = {table: len(frame) for table, frame in frames.items()}
        problems = []
        for table, frame in frames.items():
            frames[table], failures = validate(table, frame)
            problems += [f"{table}: {failure}" for failure in failures]
        if problems:
            raise PullFailed("contract failed: " + "; ".join(problems[:5]))
        shortfall = unexplained_shortfall(con, account, plan, frames, result)
        if shortfall:
            result.status, result.reason = "incomplete", shortfall
        else:
            result.status = load(con, account, plan, frames, result)
    except Exception as error:  # noqa: BLE001 - every fault of one account is recorded, never propagated
        broke_off = _broke_off_listing(error, current, session)
        result.status = "incomplete" if broke_off else "failed"
        where = f"{current.endpoint}: " if current is not None else ""
        if broke_off:
            where = f"{current.endpoint} stopped after {session.listings[current.endpoint].pages} page(s): "
        result.reason = redact(f"{where}{type(error).__name__}: {error}")
    finally:
        archive_pulls(paths, account, plan, result, session)
        record_pulls(con, account, plan, result)
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


def pull_steps(session: ApiSession, plan: PullPlan) -> list[tuple[str, Callable[[], object]]]:
    if isinstance(session, DisplaySession):
        # the profile's count first: a video posted between the two calls then lengthens the listing, which is
        # accepted, instead of raising the count above it (a shortfall); one deleted meanwhile is "gone" (load.py)
        return [("user_info", session.user_info), ("video_list", session.video_list)]
    assert isinstance(session, BusinessSession)
    account_data = ("business_get", lambda: session.account_data(plan.metrics_start, plan.metrics_end))
    if plan.purpose == "daily_metrics":
        return [account_data]
    return [account_data, ("business_video_list", session.video_list)]


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
