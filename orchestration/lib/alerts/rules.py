"""The rules: events found in the published marts (`<data>/marts/*.parquet`, read-only), the quarantine
reports (`<data>/raw/quarantine/*.json`) and a failed run. Each event has a stable key (rule, account,
day or video or file or run) so that it is sent once, whatever the number of runs that see it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from orchestration.lib.core.inbox import shown_name
from orchestration.lib.core.links import tiktok_link
from orchestration.lib.core.paths import DataPaths

OUTLIERS = "rpt_video_outliers_daily"  # the outlier mart; rpt_trending_videos_7d is the fallback
BREAKOUT_BASELINE_DAYS = 28  # the account's median 7-day growth is taken over this many days of trending rows
_GAINED = re.compile(r"^views_gained_(\d+)d$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Event:
    rule: str
    key: str  # stable: the same event seen by another run has the same key
    title: str
    body: str


def _read(
    con: duckdb.DuckDBPyConnection, marts: Path, model: str, sql: str, params: list, needs: tuple[str, ...] = ()
) -> list[tuple]:
    """Rows of `sql` over one published mart (as table `m`); none when the mart is not published, or was published
    without the columns `needs` (by an older version: the next run publishes them)."""
    file = marts / f"{model}.parquet"
    if not file.is_file():
        return []
    if needs:
        columns = {d[0] for d in con.execute("select * from read_parquet(?) limit 0", [str(file)]).description}
        if not set(needs) <= columns:
            return []
    return con.execute(f"with m as (select * from read_parquet(?)) {sql}", [str(file), *params]).fetchall()


def no_new_export(con, marts: Path, *, days: int, today: date) -> list[Event]:
    """Accounts whose newest export (Studio) or API follower day is `days` or more days before the run date, and
    inbox folders of agency-wide LIVE Backstage downloads whose newest download is.

    The run date, not the newest day across accounts: when every account stops exporting, that is news too.
    Keyed by the account and that newest date, so one stall sends one message and a later stall another. A creator
    dim_accounts knows only from Backstage downloads (known_from 'live_backstage') has no date of its own: their
    folder's stall is the one to tell."""
    accounts = _read(
        con,
        marts,
        "dim_accounts",
        """select account_handle, greatest(last_export_date, latest_followers_date), latest_followers_date
        from m order by account_handle""",
        [],
    )
    # each account's sources, newest first (an account that moved from Studio downloads to the API gets API advice),
    # and its newest day of a daily source: a LIVE file is none, so it neither ends nor dates a stall of the others
    sources = {
        handle: (listed, daily)
        for handle, listed, daily in _read(
            con,
            marts,
            "rpt_account_freshness",
            """select account_handle, list(export_source order by last_export_date desc, export_source),
                max(last_export_date) filter (where export_source <> 'live')
            from m where last_export_date is not null group by 1""",
            [],
        )
    }
    events = []
    for handle, newest, followers_day in accounts:
        listed, daily = sources.get(handle, ([], None))
        if any(source != "live" for source in listed):
            newest = max((day for day in (daily, followers_day) if day is not None), default=newest)
        if newest is not None and (today - newest).days >= days:
            events.append(_account_stalled(handle, newest, today, days, listed))
    # inbox folders of agency-wide LIVE Backstage downloads (not accounts: no data of their own in dim_accounts)
    folders = _read(
        con,
        marts,
        "rpt_account_freshness",
        """select account_handle, max(last_export_date) filter (where export_source = 'live') as newest from m
        where is_agency_wide_folder
        group by account_handle having date_diff('day', newest, ?::date) >= ? order by account_handle""",
        [today, days],
        needs=("is_agency_wide_folder",),
    )
    events += [
        _stalled(folder, newest, today, days, f"{folder}/: no new agency-wide download",
                 f"The newest file in inbox/{folder}/ (agency-wide: LIVE Backstage creator data)",
                 f"Download the creator data from LIVE Backstage and drop it into inbox/{folder}/.")
        for folder, newest in folders
    ]  # fmt: skip
    return events


def _account_stalled(handle: str, newest: date, today: date, days: int, sources: list[str]) -> Event:
    """What the account's data comes from decides the advice (`sources`: newest first): the API pulls when they are
    its newest source, else Studio downloads, else LIVE files alone (an account with data only on days it goes LIVE)."""
    regular = [source for source in sources if source != "live"]  # a LIVE file is no daily source
    pulled = [source for source in regular if source.startswith("api_")]
    if pulled and (regular[0] in pulled or "studio" not in regular):
        return _stalled(handle, newest, today, days, f"@{handle}: no new API data",
                        f"The newest TikTok API data of @{handle}",
                        "Check that the daily job ran and that its API pull for the account succeeded (an expired "
                        "or revoked token stops it: docs/api-sources.md).")  # fmt: skip
    if "studio" in sources or not sources:  # no freshness mart yet: Studio, the common case
        return _stalled(handle, newest, today, days, f"@{handle}: no new export", f"The newest export of @{handle}",
                        "Download the account's files from TikTok Studio and drop them into the inbox.")  # fmt: skip
    return _stalled(handle, newest, today, days, f"@{handle}: no new LIVE file", f"The newest LIVE file of @{handle}",
                    f"@{handle} has LIVE files only, so it has data only on the days it goes LIVE; to follow it "
                    "every day, download its files from TikTok Studio too.")  # fmt: skip


def _stalled(name: str, newest: date, today: date, days: int, title: str, subject: str, advice: str) -> Event:
    """A no_new_export event: `title` and `subject` name the account or folder, keyed by it and its newest date."""
    gap = (today - newest).days
    return Event(
        "no_new_export",
        f"no_new_export:{name}:{newest}",
        f"{title} for {gap} days",
        f"{subject} is dated {newest}, {gap} days before {today} (rule no_new_export: {days} days or more). {advice}",
    )


def followers_drop(con, marts: Path, *, percent: float, lookback_days: int) -> list[Event]:
    """Days on which followers fell by more than `percent`% from the day before (fct_follower_growth_daily),
    within the last `lookback_days` days of each account's data (late exports still count; old history
    does not flood the first run)."""
    rows = _read(
        con,
        marts,
        "fct_follower_growth_daily",
        """select account_handle, metric_date, followers - net_follower_change as before, followers
        from m
        where net_follower_change < 0 and followers - net_follower_change > 0
          and -net_follower_change * 100.0 / (followers - net_follower_change) > ?
          and metric_date > (select max(metric_date) from m n where n.account_handle = m.account_handle) - ?::int
        order by account_handle, metric_date""",
        [percent, lookback_days],
    )
    events = []
    for handle, day, before, after in rows:
        fall = before - after
        events.append(
            Event(
                "followers_drop",
                f"followers_drop:{handle}:{day}",
                f"@{handle}: followers fell {fall * 100 / before:.1f}% on {day}",
                f"Followers of @{handle} went from {before:,} the day before to {after:,} on {day}: "
                f"-{fall:,} (-{fall * 100 / before:.1f}%; rule followers_drop: more than {percent:g}% in a day).",
            )
        )
    return events


def breakout_video(con, marts: Path, *, min_score: float, min_views: int, lookback_days: int) -> list[Event]:
    """Videos whose 7-day view growth is at least `min_score` times a median growth of the account.

    Source: `rpt_video_outliers_daily` when published (its `outlier_score`: growth over the median of the
    account's videos of the same age that day); else `rpt_trending_videos_7d`, where the median is over the
    account's trending rows of the last 28 days up to that day: the median of its best videos, a conservative
    baseline. Only days within `lookback_days` of the account's newest day in the source count. Keyed by
    video: a breakout is announced once, on its highest score in the window, whichever source found it."""
    if (marts / f"{OUTLIERS}.parquet").is_file():
        rows, window, median_of = _outlier_rows(con, marts, min_views=min_views, lookback_days=lookback_days)
    else:
        rows, window, median_of = _trending_rows(con, marts, min_views=min_views, lookback_days=lookback_days)
    rows = [row for row in rows if row[3] >= min_score]
    titles = {
        (r[0], r[1]): r[2:]
        for r in _read(con, marts, "dim_videos", "select account_handle, video_id, video_title, video_link from m", [])
    }
    events = []
    for handle, video, day, score, views, baseline, peers in rows:
        title, link = titles.get((handle, video), (None, None))
        name = f'"{title.strip()}"' if title and title.strip() else f"video {video}"
        events.append(
            Event(
                "breakout_video",
                f"breakout_video:{handle}:{video}",
                f"@{handle}: breakout video {name}",
                f"{name} (video {video}) gained {views:,.0f} views in the {window} days to {day}, "
                f"{score:.1f}x the median {window}-day growth ({baseline:,.0f}) of {median_of}{peers} "
                f"(rule breakout_video: at least {min_score:g}x and {min_views:,} views)."
                + (f"\n{link}" if (link := tiktok_link(link)) else ""),  # never a javascript: or foreign link
            )
        )
    return events


# (handle, video, day, score, views gained, baseline, peers label) of each video's best day in the window
_BEST_PER_VIDEO = """
    select account_handle, video_id, arg_max(day, score), max(score), arg_max(gained, score),
        arg_max(baseline, score), arg_max(peers, score)
    from scored
    where baseline > 0 and gained >= ?
    group by account_handle, video_id
    order by account_handle, video_id"""


def _outlier_rows(con, marts: Path, *, min_views: int, lookback_days: int) -> tuple[list, str, str]:
    rows = _read(
        con,
        marts,
        OUTLIERS,
        """, scored as (
            select account_handle, video_id, metric_date as day, outlier_score as score, views_gained_7d as gained,
                peer_median_views_gained_7d as baseline,
                ' (' || age_bucket || ' old, ' || peer_videos || ' videos)' as peers
            from m
            where outlier_score is not null
              and metric_date > (select max(metric_date) from m n where n.account_handle = m.account_handle) - ?::int
        )"""
        + _BEST_PER_VIDEO,
        [lookback_days, min_views],
    )
    return rows, "7", "the account's videos of the same age"


def _trending_rows(con, marts: Path, *, min_views: int, lookback_days: int) -> tuple[list, str, str]:
    file = marts / "rpt_trending_videos_7d.parquet"
    if not file.is_file():
        return [], "7", ""
    columns = [r[0] for r in con.execute("describe select * from read_parquet(?)", [str(file)]).fetchall()]
    gained = next((c for c in columns if _GAINED.match(c)), None)
    if gained is None:
        return [], "7", ""
    rows = _read(
        con,
        marts,
        "rpt_trending_videos_7d",
        f""", medians as (
            select t.account_handle, t.as_of_date as day, t.video_id, t.{gained} as gained, '' as peers,
                (select median(b.{gained}) from m b
                 where b.account_handle = t.account_handle
                   and b.as_of_date between t.as_of_date - {BREAKOUT_BASELINE_DAYS - 1} and t.as_of_date) as baseline
            from m t
            where t.as_of_date > (select max(as_of_date) from m n where n.account_handle = t.account_handle) - ?::int
        ), scored as (select *, gained / baseline as score from medians)"""
        + _BEST_PER_VIDEO,
        [lookback_days, min_views],
    )
    return rows, _GAINED.match(gained).group(1), "the account's trending videos (28 days)"


def files_quarantined(paths: DataPaths) -> list[Event]:
    """One event per quarantine report (`<data>/raw/quarantine/*.json`) of a file still quarantined: the reports
    are what a user reads about a quarantined file. A landing files a report whose quarantine ended (a corrected
    file dropped over it, the file moved where it belongs, a ZIP inside a ZIP whose bytes landed bare) under
    `resolved/`; until then (a run stopped before it), the published `rpt_quarantined_files` says which are still
    quarantined (every report while it is not published). Keyed by the report's name (archive hash, receipt and
    file name): the same file quarantined again is not news."""
    current = _still_quarantined(paths.marts)
    events = []
    for report_file in sorted(paths.quarantine.glob("*.json")):
        try:
            report = json.loads(report_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a report being rewritten: the next run sees it whole
        if current is not None and report.get("inbox_path") and not _quarantined_file(report) & current:
            continue  # its quarantine ended
        issues = report.get("issues") or []
        handle = report.get("account_handle")
        first = issues[0] if issues else {}
        where = (f" row {first['row']}" if first.get("row") else "") + (
            f", column {first['column']}" if first.get("column") else ""
        )
        more = f" ({len(issues) - 1} more issue(s))" if len(issues) > 1 else ""
        reason = shown_name(f"{first.get('rule')}{where}: {first.get('message')}{more}") if issues else "see its report"
        file = _placed(report)
        events.append(
            Event(
                "files_quarantined",
                f"files_quarantined:{report_file.stem}",
                f"Quarantined: {file}" + (f" (@{handle})" if handle else ""),
                f"{file} ({report.get('file_kind') or 'unknown kind'}) was quarantined: "
                f"{reason}.\n"
                f"{report.get('what_to_do', '')}\nReport: {report_file}",
            )
        )
    return events


def _still_quarantined(marts: Path) -> set[tuple[str, str, str]] | None:
    """(archive sha256, inbox path, ZIP member or '') of every file `rpt_quarantined_files` lists; None when it is
    not published."""
    if not (marts / "rpt_quarantined_files.parquet").is_file():
        return None
    # a document whose receipt the manifest does not name (received_at null) is listed by its file name: any
    # inbox path of its bytes matches it, rather than hide a file still quarantined
    sql = """select left(document_id, 64), case when received_at is not null then inbox_path end,
        coalesce(zip_member, '') from m"""
    with duckdb.connect(":memory:") as con:
        return set(_read(con, marts, "rpt_quarantined_files", sql, []))


def _quarantined_file(report: dict) -> set[tuple[str, str | None, str]]:
    """A report's file as `_still_quarantined` keys it, at its inbox path or at none: its `file` is
    `<name> › <member>` for a ZIP's entry."""
    file = str(report.get("file"))
    member = file.split(" › ", 1)[1] if " › " in file else ""
    sha = str(report.get("archive_sha256"))
    return {(sha, str(report.get("inbox_path")), member), (sha, None, member)}


def _placed(report: dict) -> str:
    """The file as a quarantine report names it, by its place in the inbox when the report says it (a ZIP's member
    after it): in dated folders many files share a name."""
    file, inbox_path = str(report.get("file")), report.get("inbox_path")
    if not inbox_path:
        return shown_name(file)
    _, member = file.split(" › ", 1) if " › " in file else (file, "")
    # control characters escaped: a name with a line break wrote headers into an e-mail alert's title (review)
    return shown_name(f"{inbox_path} › {member}" if member else inbox_path)


def quarantine_digest(events: list[Event], shown: int = 30) -> Event:
    """One message for several quarantined files: each file's line, then where the reports are."""
    lines = [f"- {event.body.splitlines()[0]}" for event in events[:shown]]
    if len(events) > shown:
        lines.append(f"... and {len(events) - shown} more")
    folder = events[0].body.rsplit("\nReport: ", 1)[-1].rsplit("/", 1)[0]
    return Event(
        "files_quarantined",
        "files_quarantined:digest",
        f"{len(events)} files quarantined",
        "\n".join(lines) + f"\nFix or re-download each file and drop it into the inbox again. Reports: {folder}",
    )


def innermost_error(error) -> str:
    """The message of the exception a step raised, under the errors Dagster wraps it in (`.cause` chain)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return getattr(error, "message", "") or ""


def run_failed(*, run_id: str, job_name: str, failed_steps: list[str], error: str, when: str) -> Event:
    steps = ", ".join(failed_steps) or "unknown step"
    error = _ANSI.sub("", error).strip()  # dbt colours its output; a message is plain text
    cut = error[:600] + (" …" if len(error) > 600 else "")
    return Event(
        "run_failed",
        f"run_failed:{run_id}",
        f"Pipeline run failed: {job_name}",
        f"Run {run_id} of {job_name} failed at {when} in: {steps}.\n{cut}\nSee `make ui` (Runs) for the whole log.",
    )
