"""The floor of the benchmark: the four contract marts computed by bare DuckDB SQL over the same files.

    floor = run_floor(inbox, workdir)     # unzip members (zipfile), one read_csv per kind, four marts
    check = compare_with_marts(floor, marts_dir)

What `make run` could cost at best on this machine: no archive, no contracts, no dbt, no Dagster, just the
files read once and the marts' essential SQL, timed end to end (unzipping included). It mirrors
dbt_project/models/marts/fct_follower_growth_daily.sql, fct_account_overview_daily.sql,
fct_video_engagement_daily.sql and rpt_trending_videos_7d.sql for Studio inputs alone (no API source):
repeated snapshots keep the newest export; year-less dates take the latest date with that month and day
not after the export (snapshot) date (the pipeline walks back from a file's last row instead, which gives the
same days to the generator's windows of at most 90 days), their month and day looked up in a table of the generator's UI
languages (`demo.catalog.LOCALE_CYCLE`, rendered by babel as the generator renders them). So it reads the
benchmark's generated drops (ZIPs named as TikTok names them), not any inbox: bare files and other ZIPs
are counted as skipped. The members are unzipped (zipfile) into one CSV per kind, which DuckDB's read_csv
parses in one call (see `unzip_members`). The row counts and values are compared with the published marts
(`compare_with_marts`): a difference means the floor does not compute the same thing.
"""

from __future__ import annotations

import calendar
import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import yaml

from orchestration.devtools.bench_run import io_stalled_s, stall_between
from orchestration.lib.core.paths import DBT_PROJECT_DIR

# Studio ZIP name -> (floor kind, member read). Followers ZIPs carry four members; only FollowerHistory
# feeds a contract mart.
ZIP_MEMBERS = {
    "Overview": ("overview", "Overview.csv"),
    "Viewers": ("viewers", "Viewers.csv"),
    "Followers": ("follower_history", "FollowerHistory.csv"),
    "Content": ("content", "Content.csv"),
}
_ZIP_NAME = re.compile(r"^(Overview|Viewers|Followers|Content)_(?:\d{4}-\d{2}-\d{2}_\d+_)?(.+?)(?: \(\d+\))?\.zip$")
COLUMNS = {  # every column as text: "undefined" and year-less dates are resolved in SQL
    "overview": ("label", "video_views", "profile_views", "likes", "comments", "shares"),
    "viewers": ("label", "total_viewers", "new_viewers", "returning_viewers"),
    "follower_history": ("label", "followers", "follower_difference"),
    "content": ("label", "video_title", "video_link", "post_label", "likes", "comments", "shares", "views"),
}
MARTS = (
    "fct_follower_growth_daily",
    "fct_account_overview_daily",
    "fct_video_engagement_daily",
    "rpt_trending_videos_7d",
)


@dataclass
class Floor:
    con: duckdb.DuckDBPyConnection  # holds one table per mart, named like the mart
    seconds: dict[str, float] = field(default_factory=dict)  # unzip, date labels, read, marts
    cpu_s: float = 0.0  # CPU seconds of every thread of this process (DuckDB's too) while the floor was computed
    io_stall_s: float | None = None  # seconds some task on the machine waited on IO meanwhile (bench_run)
    files_read: int = 0
    files_skipped: int = 0
    rows_read: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # per mart

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def dbt_vars() -> dict:
    """The knobs the marts read (provisional_days, trending_window_days, trending_top_n), from dbt_project.yml."""
    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def unzip_members(inbox: Path, workdir: Path) -> tuple[int, int]:
    """Append each Studio ZIP's mart member to workdir/<kind>.csv; (files read, files skipped).

    Each line gets its export's epoch and handle in front, by one bytes.replace per member (no per-row
    Python): one CSV per kind lets DuckDB parse a kind in one parallel scan, where read_csv over a glob of
    one file per member pays about half a millisecond per file (9-14 s for 24,000 members here, against
    under 2 s this way). The header line goes; the generated files have no line break inside a field (a
    title with one would shift columns, and the check against the marts would say so). The export moment
    is the ZIP entry's timestamp (UTC wall clock, as the pipeline's anchor), the handle the ZIP name's (a
    browser's " (1)" dropped)."""
    workdir.mkdir(parents=True, exist_ok=True)
    outputs = {kind: (workdir / f"{kind}.csv").open("wb") for kind, _ in ZIP_MEMBERS.values()}
    read = skipped = 0
    try:
        for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
            match = _ZIP_NAME.match(path.name)
            if match is None:
                skipped += 1
                continue
            kind, member = ZIP_MEMBERS[match[1]]
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo(member)
                rows = archive.read(info).split(b"\n", 1)[1:]  # [] for a header-only file
            read += 1
            if rows and rows[0].strip():
                prefix = b'"%d","%s",' % (calendar.timegm((*info.date_time, 0, 0, 0)), match[2].encode())
                outputs[kind].write(prefix + rows[0].rstrip(b"\n").replace(b"\n", b"\n" + prefix) + b"\n")
    finally:
        for output in outputs.values():
            output.close()
    return read, skipped


def _date_labels(con: duckdb.DuckDBPyConnection) -> None:
    """Table date_labels(label, m, d): every month-day of a leap year in each of the generator's UI languages."""
    from orchestration.devtools.demo.catalog import LOCALE_CYCLE
    from orchestration.devtools.demo.formats import YearlessDates

    rows: dict[str, tuple[int, int]] = {}
    for locale in LOCALE_CYCLE:
        render = YearlessDates(locale)
        for offset in range(366):
            day = date(2024, 1, 1) + timedelta(days=offset)
            label = render(day)
            if rows.setdefault(label, (day.month, day.day)) != (day.month, day.day):
                raise ValueError(f"year-less label {label!r} means two dates in the generator's languages")
    con.execute(
        "create or replace table date_labels as select unnest($1) as label, unnest($2) as m, unnest($3) as d",
        [list(rows), [m for m, _ in rows.values()], [d for _, d in rows.values()]],
    )


def _read_kind(con: duckdb.DuckDBPyConnection, workdir: Path, kind: str) -> int:
    columns = ", ".join(f"'{name}': 'VARCHAR'" for name in ("epoch", "account_handle", *COLUMNS[kind]))
    con.execute(
        f"""create or replace table {kind} as
        select * exclude (epoch), make_timestamp(cast(epoch as bigint) * 1000000) as exported_at
        from read_csv('{workdir / kind}.csv', header = false, auto_detect = false, delim = ',', quote = '"',
                      escape = '"', columns = {{{columns}}})"""
    )
    return con.execute(f"select count(*) from {kind}").fetchone()[0]


# Year-less labels -> dates: the latest date with that month and day not after `anchor`.
_MACROS = """
create or replace macro not_after(m, d, anchor) as make_date(
    year(anchor) - case when m > month(anchor) or (m = month(anchor) and d > day(anchor)) then 1 else 0 end, m, d);
create or replace macro num(x) as cast(nullif(x, 'undefined') as bigint);
"""

# Each day from its newest export; a count that export wrote as "undefined" from the newest export that had one
# (Overview: cell by cell; Viewers: total, new and returning as one unit, its "0","0" beside an undefined total unknown)
_DAILY = """
create or replace table {kind}_daily as
with dated as (
    select k.* exclude (label), not_after(l.m, l.d, cast(k.exported_at as date)) as metric_date
    from {kind} k join date_labels l using (label)
)
select account_handle, metric_date, cast(exported_at as date) as export_date, {values}
from ({rows}) window w as (partition by account_handle, metric_date order by exported_at
    rows between unbounded preceding and unbounded following)
qualify row_number() over (partition by account_handle, metric_date order by exported_at desc) = 1
"""
_DAILY_VALUES = {
    "overview": (
        "select *, " + ", ".join(f"num({c}) as n_{c}" for c in COLUMNS["overview"][1:]) + " from dated",
        ", ".join(f"last_value(n_{c} ignore nulls) over w as {c}" for c in COLUMNS["overview"][1:]),
    ),
    "viewers": (
        """select *, num(total_viewers) as t, case when num(total_viewers) is null
            and coalesce(num(new_viewers), 0) = 0 and coalesce(num(returning_viewers), 0) = 0 then [null, null]
            else [num(new_viewers), num(returning_viewers)] end as p
        from dated""",
        """coalesce(last_value(case when t is not null then [t, p[1], p[2]] end ignore nulls) over w,
            last_value(case when coalesce(p[1], p[2]) is not null then [null, p[1], p[2]] end ignore nulls) over w,
            [null, null, null]) as unit""",
    ),
    "follower_history": (
        "select *, num(followers) as f from dated",
        "last_value(f ignore nulls) over w as followers",
    ),
}

_MARTS = """
create or replace table fct_follower_growth_daily as
with bounds as (
    select account_handle, min(metric_date) as first_date, max(metric_date) as last_date
    from follower_history_daily group by account_handle
),
spine as (
    select account_handle, cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date) as metric_date
    from bounds
),
filled as (
    select s.account_handle, s.metric_date, h.followers
    from spine s left join follower_history_daily h using (account_handle, metric_date)
)
select account_handle, metric_date, followers,
    followers - lag(followers, 1) over w as net_follower_change,
    followers - lag(followers, 7) over w as net_follower_change_7d,
    followers - lag(followers, 28) over w as net_follower_change_28d
from filled window w as (partition by account_handle order by metric_date);

create or replace table fct_account_overview_daily as
select coalesce(o.account_handle, v.account_handle) as account_handle,
    coalesce(o.metric_date, v.metric_date) as metric_date,
    o.video_views, o.profile_views, o.likes, o.comments, o.shares, v.unit[1] as total_viewers,
    v.unit[2] as new_viewers, v.unit[3] as returning_viewers,
    coalesce(o.export_date - o.metric_date <= {provisional_days}, false)
        or coalesce(v.export_date - v.metric_date <= {provisional_days}, false) as is_provisional
from overview_daily o full outer join viewers_daily v using (account_handle, metric_date);

create or replace table snapshots as
with resolved as (
    select c.account_handle, regexp_extract(c.video_link, '/video/(\\d+)', 1) as video_id,
        not_after(t.m, t.d, cast(c.exported_at as date)) as metric_date, c.post_label,
        num(c.views) as views_total, num(c.likes) as likes_total, num(c.comments) as comments_total,
        num(c.shares) as shares_total, c.exported_at
    from content c join date_labels t using (label)
)
select r.* exclude (post_label, exported_at), not_after(p.m, p.d, r.metric_date) as post_date
from resolved r join date_labels p on p.label = r.post_label
qualify row_number() over (partition by account_handle, video_id, metric_date order by exported_at desc) = 1;

create or replace table fct_video_engagement_daily as
with previous as (
    select *, lag(views_total) over w as prev_views, lag(likes_total) over w as prev_likes,
        lag(comments_total) over w as prev_comments, lag(shares_total) over w as prev_shares,
        metric_date - lag(metric_date) over w as days_since_previous_snapshot,
        row_number() over w = 1 as is_first
    from snapshots window w as (partition by account_handle, video_id order by metric_date)
),
baselined as (
    select *, case when is_first and post_date >= metric_date - 1 then 'zero_new_video'
        when is_first then 'none_first_snapshot' else 'previous_snapshot' end as gains_baseline
    from previous
)
select account_handle, video_id, metric_date, views_total, likes_total, comments_total, shares_total,
    case gains_baseline when 'previous_snapshot' then views_total - prev_views
        when 'zero_new_video' then views_total end as views_gained,
    case gains_baseline when 'previous_snapshot' then likes_total - prev_likes
        when 'zero_new_video' then likes_total end as likes_gained,
    case gains_baseline when 'previous_snapshot' then comments_total - prev_comments
        when 'zero_new_video' then comments_total end as comments_gained,
    case gains_baseline when 'previous_snapshot' then shares_total - prev_shares
        when 'zero_new_video' then shares_total end as shares_gained,
    days_since_previous_snapshot,
    cast(likes_total + comments_total + shares_total as double) / nullif(cast(views_total as double), 0)
        as engagement_rate,
    gains_baseline
from baselined;

create or replace table rpt_trending_videos_7d as
with seen as (select * from snapshots where views_total is not null),
candidates as (
    select account_handle, metric_date as as_of_date, metric_date - {window} as window_start, video_id, post_date,
        views_total
    from seen
),
mid_window as (  -- the earliest snapshot strictly inside the window, when none is exactly window days old
    select c.account_handle, c.as_of_date, c.video_id, arg_min(b.views_total, b.metric_date) as baseline
    from candidates c join seen b on b.account_handle = c.account_handle and b.video_id = c.video_id
        and b.metric_date > c.window_start and b.metric_date < c.as_of_date
    group by all
),
baselined as (
    select c.*,
        case when exact.video_id is not null then exact.views_total when c.post_date > c.window_start then 0
            else mid.baseline end as baseline,
        case when exact.video_id is not null or c.post_date > c.window_start then true
            when mid.video_id is not null then false end as has_full_window
    from candidates c
    left join seen exact on exact.account_handle = c.account_handle and exact.video_id = c.video_id
        and exact.metric_date = c.window_start
    left join mid_window mid on mid.account_handle = c.account_handle and mid.as_of_date = c.as_of_date
        and mid.video_id = c.video_id
),
ranked as (
    select *, views_total - baseline as views_gained_{window}d, row_number() over (
        partition by account_handle, as_of_date order by views_total - baseline desc, video_id) as trending_rank
    from baselined where has_full_window is not null
)
select account_handle, as_of_date, trending_rank, video_id, views_gained_{window}d, views_total, post_date,
    has_full_window
from ranked where trending_rank <= {top_n};
"""


def run_floor(inbox: Path, workdir: Path) -> Floor:
    """Unzip, read and build the four marts in an in-memory DuckDB; each phase timed. `workdir` is emptied."""
    knobs = dbt_vars()
    shutil.rmtree(workdir, ignore_errors=True)
    con = duckdb.connect()
    floor = Floor(con)
    cpu_started, stalled_before = time.process_time(), io_stalled_s()
    started = time.perf_counter()
    floor.files_read, floor.files_skipped = unzip_members(inbox, workdir)
    floor.seconds["unzip members"] = time.perf_counter() - started

    started = time.perf_counter()
    _date_labels(con)
    con.execute(_MACROS)
    floor.seconds["date labels"] = time.perf_counter() - started

    started = time.perf_counter()
    floor.rows_read = sum(_read_kind(con, workdir, kind) for kind in COLUMNS)
    floor.seconds["read_csv"] = time.perf_counter() - started

    started = time.perf_counter()
    for kind in ("overview", "viewers", "follower_history"):
        rows, values = _DAILY_VALUES[kind]
        con.execute(_DAILY.format(kind=kind, rows=rows, values=values))
    con.execute(
        _MARTS.format(
            provisional_days=int(knobs["provisional_days"]),
            window=int(knobs["trending_window_days"]),
            top_n=int(knobs["trending_top_n"]),
        )
    )
    floor.seconds["marts (SQL)"] = time.perf_counter() - started
    floor.cpu_s = time.process_time() - cpu_started
    floor.io_stall_s = stall_between(stalled_before, io_stalled_s())
    floor.rows = {mart: con.execute(f"select count(*) from {mart}").fetchone()[0] for mart in MARTS}
    shutil.rmtree(workdir, ignore_errors=True)
    return floor


@dataclass(frozen=True)
class MartCheck:
    mart: str
    floor_rows: int
    mart_rows: int | None  # None: the published file is missing
    only_in_floor: int  # rows (all the floor's columns) the published mart does not have
    only_in_mart: int

    @property
    def matches(self) -> bool:
        return self.floor_rows == self.mart_rows and not self.only_in_floor and not self.only_in_mart


def compare_with_marts(floor: Floor, marts_dir: Path) -> list[MartCheck]:
    """Each floor mart against `<marts_dir>/<mart>.parquet`, on the floor's columns, row for row."""
    checks = []
    for mart in MARTS:
        path = marts_dir / f"{mart}.parquet"
        if not path.exists():
            checks.append(MartCheck(mart, floor.rows[mart], None, floor.rows[mart], 0))
            continue
        con = floor.con
        columns = ", ".join(name for name, *_ in con.execute(f"describe {mart}").fetchall())
        published = f"(select {columns} from read_parquet('{path}'))"
        mart_rows = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
        only_floor = con.execute(f"select count(*) from (select {columns} from {mart} except all {published})")
        only_floor = only_floor.fetchone()[0]
        only_mart = con.execute(f"select count(*) from ({published} except all select {columns} from {mart})")
        checks.append(MartCheck(mart, floor.rows[mart], mart_rows, only_floor, only_mart.fetchone()[0]))
    return checks
