"""What the report shows, read from the published marts only (`<data>/marts/<mart>.parquet`).

Never the working warehouse: the report is what BI tools see. A mart whose file does not exist yet (a new
mart not published, no LIVE recorded) is simply absent and its section says "no data yet". Every query
orders its rows fully so the same marts give the same pages.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

# Marts the report can use; any of them may be missing.
MARTS = (
    "dim_accounts",
    "dim_videos",
    "fct_account_overview_daily",
    "fct_follower_growth_daily",
    "fct_video_engagement_daily",
    "rpt_trending_videos_7d",
    "fct_follower_activity_hourly",
    "fct_follower_gender_snapshot",
    "fct_follower_territory_snapshot",
    "fct_live_sessions",
    "fct_live_account_daily",
    "fct_live_backstage_daily",
    # issue 9's report marts: used when published, the base marts stand in until then
    "rpt_account_scorecard_daily",
    "rpt_video_outliers_daily",
    "rpt_account_freshness",
    "rpt_quarantined_files",
)
PORTFOLIO_FIELDS = (
    "followers",
    "followers_date",
    "followers_as_of",
    "growth_7d",
    "growth_28d",
    "growth_rate_7d",
    "growth_rate_28d",
    "views_28d",
    "engagement_rate_28d",
    "last_export_date",
    "last_export_days_ago",
    "last_metric_date",
    "last_metric_days_ago",
    "documents_quarantined",
)
WINDOW_DAYS = 28  # the portfolio's views and engagement rate: the account's last 28 days
TOP_VIDEOS = 5  # growth curves drawn per account
TOP_TERRITORIES = 8
BREAKOUTS = 10
# A new TikTok format can quarantine every download of an agency: the page lists this many, the mart all of them.
QUARANTINED_SHOWN = 100


@dataclass
class Marts:
    """An in-memory DuckDB with a view per published parquet file that exists: a query reads only the columns
    and row groups it needs (copying every mart into a table first cost more than all the queries together).

    The views read hard links to the published files made when it opens, in `pin_dir` (removed on close):
    publish.py replaces `<mart>.parquet` by a new file, so every query reads the version the report started
    from. Where no link can be made (no `pin_dir`, another file system), the file is read into a table at once:
    a snapshot as well."""

    marts_dir: Path
    pin_dir: Path | None = None
    con: duckdb.DuckDBPyConnection = field(init=False)
    present: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        if self.pin_dir is not None:
            self.pin_dir.mkdir(parents=True, exist_ok=True)
        for mart in MARTS:
            path = self.marts_dir / f"{mart}.parquet"
            if path.is_file():
                pinned = self._pin(path)
                literal = str(pinned or path).replace("'", "''")
                kind = "view" if pinned else "table"
                self.con.execute(f"create {kind} {mart} as select * from read_parquet('{literal}')")
                self.present.add(mart)

    def _pin(self, path: Path) -> Path | None:
        if self.pin_dir is None:
            return None
        try:
            os.link(path, self.pin_dir / path.name)
        except OSError:
            return None
        return self.pin_dir / path.name

    def has(self, *marts: str) -> bool:
        return all(m in self.present for m in marts)

    def columns(self, mart: str) -> list[str]:
        return [d[0] for d in self.con.execute(f"select * from {mart} limit 0").description]

    def table(self, sql: str, params: list | None = None) -> pa.Table:
        return self.con.sql(sql, params=params).to_arrow_table()

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.con.close()
        if self.pin_dir is not None:
            shutil.rmtree(self.pin_dir, ignore_errors=True)


def own_data_filter(m: Marts) -> str:
    """dim_accounts' filter to the accounts with data of their own: not a LIVE creator known only from LIVE Backstage
    downloads (`known_from`; a dim_accounts published before that column holds no such creator)."""
    return "where known_from = 'account_exports'" if "known_from" in m.columns("dim_accounts") else ""


def accounts(m: Marts) -> list[str]:
    """The portfolio's accounts: those with data of their own (backstage_creators are listed apart)."""
    sources = [s for s in ("dim_accounts", "fct_account_overview_daily", "fct_follower_growth_daily") if m.has(s)]
    if not sources:
        return []
    union = " union ".join(
        f"select account_handle from {s} {own_data_filter(m) if s == 'dim_accounts' else ''}" for s in sources
    )
    return [r["account_handle"] for r in m.rows(f"select distinct account_handle from ({union}) order by 1")]


def backstage_creators(m: Marts) -> list[dict]:
    """LIVE creators known only from LIVE Backstage downloads (dim_accounts.known_from 'live_backstage'), by handle,
    with their newest download's month-to-date figures (fct_live_backstage_daily; null without it). Not portfolio
    rows: no follower, view or export figure exists for them, and a row of dashes and 0 quarantined files would say
    otherwise."""
    if not m.has("dim_accounts") or "known_from" not in m.columns("dim_accounts"):
        return []
    figures = ("period_start", "diamonds_mtd", "live_duration_mtd_s", "live_streams_mtd", "valid_live_days_mtd",
               "new_followers_mtd", "has_quit")  # fmt: skip
    if m.has("fct_live_backstage_daily"):
        newest = """left join (
                select * from fct_live_backstage_daily
                qualify row_number() over (partition by creator_handle order by metric_date desc, creator_key) = 1
            ) b on b.creator_handle = d.account_handle"""
        columns = ", ".join(["b.metric_date", *(f"b.{f}" for f in figures)])
    else:
        newest, columns = "", ", ".join(f"null as {f}" for f in ("metric_date", *figures))
    return m.rows(
        f"""select d.account_handle, {columns} from dim_accounts d {newest}
        where d.known_from = 'live_backstage' order by d.account_handle"""
    )


def newest_data_date(m: Marts) -> date | None:
    """The newest day any mart knows: 'N days ago' counts from here, not from the clock (same marts, same page)."""
    candidates = []
    if m.has("dim_accounts"):
        candidates.append("select max(greatest(last_export_date, last_metric_date)) as d from dim_accounts")
    if m.has("fct_account_overview_daily"):
        candidates.append("select max(metric_date) as d from fct_account_overview_daily")
    if not candidates:
        return None
    return m.rows(f"select max(d) as d from ({' union all '.join(candidates)})")[0]["d"]


def portfolio(m: Marts) -> list[dict]:
    """One row per account: followers, 7/28-day growth, views and engagement rate over its last 28 days, last export.

    `followers_as_of` is the day the follower figures (and growth rates) describe when the account has newer daily
    data: a FollowerHistory export can end weeks before its Overview. An account whose data all ends early is told
    by `last_metric_days_ago` instead (every column of its row is as old)."""
    newest = newest_data_date(m)
    empty = dict.fromkeys(PORTFOLIO_FIELDS)  # an account a mart does not know shows "–", never fails the page
    rows = {h: {**empty, "account_handle": h} for h in accounts(m)}
    if m.has("fct_follower_growth_daily"):
        for r in m.rows(
            """select account_handle, metric_date, followers, net_follower_change_7d, net_follower_change_28d
            from fct_follower_growth_daily
            where followers is not null
            qualify row_number() over (partition by account_handle order by metric_date desc) = 1"""
        ):
            rows[r["account_handle"]].update(
                followers=r["followers"],
                followers_date=r["metric_date"],
                growth_7d=r["net_follower_change_7d"],
                growth_28d=r["net_follower_change_28d"],
            )
    last_overview = {}  # each account's newest Overview day (dim_accounts' last_metric_date, before it is published)
    if m.has("fct_account_overview_daily"):
        for r in m.rows(
            f"""select account_handle, max(metric_date) as last_overview_date, sum(video_views) as views_28d,
                -- net views (after removals) can sum to 0 or less: no rate then, as in rpt_account_scorecard_daily
                (sum(likes) + sum(comments) + sum(shares)) / case when sum(video_views) > 0 then sum(video_views) end
                    as engagement_rate_28d
            from fct_account_overview_daily o
            where metric_date > (select max(metric_date) from fct_account_overview_daily p
                                 where p.account_handle = o.account_handle) - {WINDOW_DAYS}
            group by 1"""
        ):
            rows[r["account_handle"]].update(views_28d=r["views_28d"], engagement_rate_28d=r["engagement_rate_28d"])
            last_overview[r["account_handle"]] = r["last_overview_date"]
    if m.has("rpt_account_scorecard_daily"):
        for r in m.rows(
            """select account_handle, follower_growth_rate_7d, follower_growth_rate_28d
            from rpt_account_scorecard_daily
            where followers is not null
            qualify row_number() over (partition by account_handle order by metric_date desc) = 1"""
        ):
            if r["account_handle"] in rows:
                rows[r["account_handle"]].update(
                    growth_rate_7d=r["follower_growth_rate_7d"], growth_rate_28d=r["follower_growth_rate_28d"]
                )
    if m.has("dim_accounts"):
        # the export's date and the newest day its numbers describe: a months-old download copied into the inbox
        # today (dated by its file's time) is a fresh export of old data
        for r in m.rows(
            "select account_handle, last_export_date, last_metric_date, documents_quarantined from dim_accounts "
            + own_data_filter(m)
        ):
            last, data_until = r["last_export_date"], r["last_metric_date"]
            rows[r["account_handle"]].update(
                last_export_date=last,
                last_export_days_ago=(newest - last).days if last and newest else None,
                last_metric_date=data_until,
                last_metric_days_ago=(newest - data_until).days if data_until and newest else None,
                documents_quarantined=r["documents_quarantined"],
            )
    for handle, row in rows.items():
        day = row["followers_date"]
        newer = [d for d in (row["last_metric_date"], last_overview.get(handle)) if d and day and d > day]
        row["followers_as_of"] = day if newer else None
    return list(rows.values())


def drop_folders(m: Marts) -> list[dict]:
    """Inbox folders of agency-wide files (LIVE Backstage's creator data, e.g. `backstage` at the inbox root), not
    accounts, with their files per source (rpt_account_freshness.is_agency_wide_folder)."""
    if not m.has("rpt_account_freshness") or "is_agency_wide_folder" not in m.columns("rpt_account_freshness"):
        return []  # published before the column: the next run publishes it
    return m.rows(
        """select account_handle as folder, export_source, last_export_date, exports_loaded, exports_not_loaded
        from rpt_account_freshness where is_agency_wide_folder order by account_handle, export_source"""
    )


def quarantined_files(m: Marts) -> tuple[list[dict], int]:
    """The files quarantined now (rpt_quarantined_files), the first `QUARANTINED_SHOWN` by their place in the inbox,
    and how many there are: also those no account could be told for, which no account's row counts."""
    if not m.has("rpt_quarantined_files"):
        return [], 0
    rows = m.rows(
        f"""select inbox_path, zip_member, account_handle, file_kind, quarantine_reason, received_at,
            count(*) over () as files
        from rpt_quarantined_files order by inbox_path, zip_member nulls first, document_id
        limit {QUARANTINED_SHOWN}"""
    )
    known = set(accounts(m))  # else a folder of agency-wide downloads (drop_folders), named as a folder
    return [{**r, "is_account": r["account_handle"] in known} for r in rows], rows[0]["files"] if rows else 0


def breakouts(m: Marts) -> list[dict]:
    """The week's breakout videos across accounts (rpt_video_outliers_daily: flagged in the 7 days to the newest
    data day, each at its best score; pages.py has each account's); without that mart, each account's trending
    list on its newest day, by 7-day growth."""
    if m.has("rpt_video_outliers_daily"):
        return _outlier_breakouts(m)
    if not m.has("rpt_trending_videos_7d"):
        return []
    title = "v.video_title, v.video_link" if m.has("dim_videos") else "null as video_title, null as video_link"
    join = "left join dim_videos v using (account_handle, video_id)" if m.has("dim_videos") else ""
    return m.rows(
        f"""select t.account_handle, t.as_of_date, t.trending_rank, t.video_id, t.views_gained_7d, t.views_total,
            t.has_full_window, {title}
        from rpt_trending_videos_7d t {join}
        where t.as_of_date = (select max(as_of_date) from rpt_trending_videos_7d u
                              where u.account_handle = t.account_handle)
        order by t.views_gained_7d desc, t.account_handle, t.video_id
        limit {BREAKOUTS}"""
    )


def _outlier_breakouts(m: Marts) -> list[dict]:
    newest = newest_data_date(m)
    if newest is None:
        return []
    title = "v.video_title, v.video_link" if m.has("dim_videos") else "null as video_title, null as video_link"
    join = "left join dim_videos v using (account_handle, video_id)" if m.has("dim_videos") else ""
    return m.rows(
        f"""select o.account_handle, o.metric_date as as_of_date, o.video_id, o.views_gained_7d, o.views_total,
            o.outlier_score, o.peer_median_views_gained_7d, o.age_bucket, true as has_full_window, {title}
        from rpt_video_outliers_daily o {join}
        where o.is_breakout and o.metric_date > ?::date - 7
        qualify row_number() over (partition by o.account_handle, o.video_id
                                   order by o.outlier_score desc, o.metric_date desc) = 1
        order by o.outlier_score desc, o.account_handle, o.video_id
        limit {BREAKOUTS}""",
        [newest],
    )
