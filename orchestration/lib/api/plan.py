"""What one account pull asks TikTok for, decided from the clock and the account's time zone.

A snapshot (the default) is dated with the account-local calendar day on which the pull runs;
Business accounts also re-read the last `business_lookback_days` UTC days of daily metrics. A past
day can only be pulled from Business daily metrics, and no further back than TikTok keeps them:
anything else raises SnapshotDayError before a single request is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from orchestration.lib.tiktok_api.config import BUSINESS_MAX_LOOKBACK_DAYS, AccountConfig, ApiConfig


class SnapshotDayError(ValueError):
    """A pull was asked for a day its endpoints cannot describe (a past day for a snapshot)."""


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
