"""What each account's page shows, for all accounts at once: one query per mart and section, grouped by account.

A query per account and section cost ~1 ms of DuckDB overhead each, ~4,500 of them at 300 accounts; the rows
are the same either way. Each query orders by account and then by exactly what the page orders by, so an
account's rows come in the same order as a query of its own would give them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from orchestration.lib.report.data import BREAKOUTS, TOP_TERRITORIES, TOP_VIDEOS, Marts
from orchestration.lib.report.series import by_account

SECTIONS = (
    "followers",
    "overview",
    "trending",
    "curves",
    "activity",
    "gender",
    "territories",
    "live",
    "live_daily",
    "rates",
)
# drawn only, as columns (series.Series); trending and live stay rows: the page lists them, or they hold timestamps
SERIES = ("followers", "overview", "curves", "activity", "gender", "territories", "live_daily", "rates")
FRESHNESS_KEYS = (
    "first_metric_date",
    "last_metric_date",
    "first_export_date",
    "last_export_date",
    "documents_loaded",
    "documents_quarantined",
    "last_export_days_ago",
    "overview_days",
    "provisional_days",
    "provisional_from",
)


def account_pages(m: Marts, handles: list[str], newest: date | None) -> dict[str, dict]:
    """Everything each account's page shows, by handle; a missing mart leaves its key empty."""
    pages = {h: {"handle": h, **{s: [] for s in SECTIONS}} for h in handles}

    def fill(section: str, sql: str, params: list | None = None) -> None:
        """A chart's section: its columns per account (series.py); the sections shown as tables are rows."""
        grouped = by_account(m.table(sql, params)) if section in SERIES else _by_account(m.rows(sql, params))
        for handle, rows in grouped.items():
            if handle in pages:
                pages[handle][section] = rows

    if m.has("fct_follower_growth_daily"):
        fill(
            "followers",
            """select account_handle, metric_date, followers, net_follower_change from fct_follower_growth_daily
            order by account_handle, metric_date""",
        )
    if m.has("fct_account_overview_daily"):
        fill(
            "overview",
            """select account_handle, metric_date, video_views, likes, comments, shares, is_provisional
            from fct_account_overview_daily order by account_handle, metric_date""",
        )
    if m.has("rpt_trending_videos_7d"):
        title = "v.video_title, v.video_link" if m.has("dim_videos") else "null as video_title, null as video_link"
        join = "left join dim_videos v using (account_handle, video_id)" if m.has("dim_videos") else ""
        fill(
            "trending",
            f"""select t.account_handle, t.as_of_date, t.trending_rank, t.video_id, t.views_gained_7d, t.views_total,
                t.post_date, t.has_full_window, {title}
            from rpt_trending_videos_7d t {join}
            where t.as_of_date = (select max(as_of_date) from rpt_trending_videos_7d
                                  where account_handle = t.account_handle)
            order by t.account_handle, t.trending_rank""",
        )
    if m.has("fct_video_engagement_daily"):
        top = [(h, r["video_id"]) for h, page in pages.items() for r in page["trending"][:TOP_VIDEOS]]
        if top:
            fill(
                "curves",
                """with top as (select distinct unnest(?) as account_handle, unnest(?) as video_id)
                select e.account_handle, e.video_id, e.metric_date, e.views_total
                from fct_video_engagement_daily e join top using (account_handle, video_id)
                order by e.account_handle, e.video_id, e.metric_date""",
                [[h for h, _ in top], [v for _, v in top]],
            )
    if m.has("fct_follower_activity_hourly"):
        # isodow: 1 = Monday … 7 = Sunday; hours TikTok had not computed yet are null and left out of the mean
        fill(
            "activity",
            """select account_handle, isodow(metric_date) as weekday, hour, avg(active_followers) as active_followers
            from fct_follower_activity_hourly where active_followers is not null
            group by 1, 2, 3 order by 1, 2, 3""",
        )
    if m.has("fct_follower_gender_snapshot"):
        fill(
            "gender",
            """select account_handle, snapshot_date, gender, distribution from fct_follower_gender_snapshot
            order by account_handle, gender, snapshot_date""",
        )
    if m.has("fct_follower_territory_snapshot"):
        fill(
            "territories",
            f"""with top as (
                select account_handle, territory from fct_follower_territory_snapshot group by 1, 2
                qualify row_number() over (partition by account_handle
                                           order by avg(distribution) desc, territory) <= {TOP_TERRITORIES})
            select account_handle, snapshot_date, territory, distribution
            from fct_follower_territory_snapshot join top using (account_handle, territory)
            order by account_handle, territory, snapshot_date""",
        )
    if m.has("fct_live_sessions"):
        wanted = ["metric_date", "started_at", "duration_s", "peak_viewers", "avg_viewers", "hearts", "diamonds"]
        published = m.columns("fct_live_sessions")
        cols = [c for c in wanted if c in published]
        order = ", ".join(c for c in ("metric_date", "started_at") if c in cols)
        if "started_at" in cols and "account_timezone" in published:
            # started_at is UTC; the page shows the account's clock, as metric_date is the account's day
            zone = "coalesce(account_timezone, 'UTC')"
            cols[cols.index("started_at")] = f"timezone({zone}, timezone('UTC', started_at)) as started_at"
            cols.append(f"{zone} as time_zone")
        if "metric_date" in cols:
            fill(
                "live",
                f"select account_handle, {', '.join(cols)} from fct_live_sessions order by account_handle, {order}",
            )
    if m.has("fct_live_account_daily"):
        # every LIVE day, whatever reported it: LIVE Center and Backstage count LIVEs no event log recorded
        fill(
            "live_daily",
            """select account_handle, metric_date, figures_source, lives, minutes_live, peak_viewers, diamonds,
                new_followers
            from fct_live_account_daily order by account_handle, metric_date""",
        )
    if m.has("rpt_account_scorecard_daily"):
        fill(
            "rates",
            """select account_handle, metric_date, engagement_rate_by_views, engagement_rate_by_followers,
                engagement_rate_by_reach
            from rpt_account_scorecard_daily order by account_handle, metric_date""",
        )
    breakouts = _breakouts(m, newest)
    sources = _sources(m)
    freshness = _freshness(m, handles, newest)
    for handle, page in pages.items():
        page["breakouts"] = breakouts.get(handle, [])
        page["sources"] = sources.get(handle, [])
        page["freshness"] = freshness[handle]
    return pages


def _by_account(rows: list[dict], keep_handle: bool = False) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        handle = r["account_handle"] if keep_handle else r.pop("account_handle")
        grouped[handle].append(r)
    return grouped


def _breakouts(m: Marts, newest: date | None) -> dict[str, list[dict]]:
    """Each account's breakouts in the 7 days to the newest data day, each video at its best score (the
    portfolio's list in data.breakouts, per account); nothing without rpt_video_outliers_daily."""
    if not m.has("rpt_video_outliers_daily") or newest is None:
        return {}
    title = "v.video_title, v.video_link" if m.has("dim_videos") else "null as video_title, null as video_link"
    join = "left join dim_videos v using (account_handle, video_id)" if m.has("dim_videos") else ""
    rows = m.rows(
        f"""with best as (
            select o.account_handle, o.metric_date as as_of_date, o.video_id, o.views_gained_7d, o.views_total,
                o.outlier_score, o.peer_median_views_gained_7d, o.age_bucket, true as has_full_window, {title}
            from rpt_video_outliers_daily o {join}
            where o.is_breakout and o.metric_date > ?::date - 7
            qualify row_number() over (partition by o.account_handle, o.video_id
                                       order by o.outlier_score desc, o.metric_date desc) = 1)
        select * from best
        qualify row_number() over (partition by account_handle order by outlier_score desc, video_id) <= {BREAKOUTS}
        order by account_handle, outlier_score desc, video_id""",
        [newest],
    )
    return _by_account(rows, keep_handle=True)


def _sources(m: Marts) -> dict[str, list[dict]]:
    """Freshness per export source (Studio, LIVE, each API) from rpt_account_freshness."""
    if not m.has("rpt_account_freshness"):
        return {}
    return _by_account(
        m.rows(
            """select account_handle, export_source, last_export_date, days_behind_reference, exports_loaded,
                exports_not_loaded
            from rpt_account_freshness order by account_handle, export_source"""
        )
    )


def _freshness(m: Marts, handles: list[str], newest: date | None) -> dict[str, dict]:
    """The account's exports and days: its daily data's range (dim_accounts: Overview, Viewers and follower days)
    and, apart, how many of those days Overview has (0 for an account of follower figures or LIVEs only)."""
    out = {h: dict.fromkeys(FRESHNESS_KEYS) for h in handles}
    if m.has("dim_accounts"):
        seen: set[str] = set()
        for r in m.rows(
            """select account_handle, first_metric_date, last_metric_date, first_export_date, last_export_date,
                documents_loaded, documents_quarantined
            from dim_accounts"""
        ):
            handle = r.pop("account_handle")
            if handle in out and handle not in seen:  # the first row, as a lookup of the handle would find
                seen.add(handle)
                last = r["last_export_date"]
                out[handle].update(r, last_export_days_ago=(newest - last).days if last and newest else None)
    if m.has("fct_account_overview_daily"):
        counted = {
            r.pop("account_handle"): r
            for r in m.rows(
                """select account_handle, count(*) as overview_days,
                    count(*) filter (where is_provisional) as provisional_days,
                    min(metric_date) filter (where is_provisional) as provisional_from,
                    min(metric_date) as first_day, max(metric_date) as last_day
                from fct_account_overview_daily group by 1"""
            )
        }
        none = {"overview_days": 0, "provisional_days": 0, "provisional_from": None}  # count(*) of no rows
        for handle, fresh in out.items():
            days = dict(counted.get(handle, none))
            first, last = days.pop("first_day", None), days.pop("last_day", None)
            fresh.update(days)
            if fresh["first_metric_date"] is None:  # dim_accounts not published (yet): the daily range is Overview's
                fresh.update(first_metric_date=first, last_metric_date=last)
    return out
