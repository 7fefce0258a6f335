"""The run summary `python -m orchestration run` prints: what the data now holds (accounts, rows per mart, trending
videos, latest LIVEs, from the BI catalog) and what the run landed (new files per account, moves, quarantine,
flags: `lib/studio/run_summary.py`), then where to look (marts, catalog, data quality, report, Dagster UI)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib.core.paths import PROJECT_ROOT, DataPaths

SUMMARY_LINES = 20  # per list in the summary; the rest is in the UI, the quarantine folder and raw.row_flags


def print_summary(
    paths: DataPaths, since: datetime | None = None, *, replayed: bool = False, run_started: datetime | None = None
) -> None:
    """What the data now holds, and what landed from `since` (naive UTC) on: the run's start, or earlier where the
    run that started at `run_started` follows one that ended without a summary."""
    import duckdb

    con = duckdb.connect(str(paths.analytics_db), read_only=True)
    try:
        marts = [
            r[0] for r in con.execute("select view_name from duckdb_views() where not internal order by 1").fetchall()
        ]
        print_accounts(con, paths.inbox, marts)
        print("Rows per mart:")
        for mart in marts:
            print(f"  {mart:<34} {con.execute(f'select count(*) from {mart}').fetchone()[0]:>9,}")
        print_trending(con)
        print_latest_lives(con)
    finally:
        con.close()
    print_run(paths, since, replayed=replayed, run_started=run_started)
    print(f"Marts (parquet):   {paths.marts}")
    print(f"BI catalog:        {paths.analytics_db}  (open read-only, e.g. duckdb -readonly {paths.analytics_db})")
    print(f"Data quality:      {paths.quality_docs / 'checks.html'} (GE Data Docs: index.html beside it)")
    print(f"Report:            {paths.marts / 'report' / 'index.html'} (open it in a browser; make report rebuilds it)")
    # `make ui` alone serves ./data: another data dir (the demo's) needs naming, else its runs are not there
    ui = "make ui" if paths.root == (PROJECT_ROOT / "data").resolve() else f"make ui DATA_DIR={paths.root}"
    print(f"Dagster UI:        {ui}  → http://127.0.0.1:3000 (lineage, runs, asset checks)")


def print_accounts(con, inbox: Path, marts: list[str]) -> None:
    """How many accounts the marts hold, the inbox folders of agency-wide files that are not accounts, and the LIVE
    creators those files name who have nothing of their own (in dim_accounts, apart)."""
    accounts, first, last = con.execute(
        "select count(distinct account_handle), min(metric_date), max(metric_date) from fct_account_overview_daily"
    ).fetchone()
    if accounts:
        print(f"\nAccounts: {accounts}   days covered: {first} → {last}")
    elif landed := con.execute(  # Followers, LIVE or API only: an account with something loaded (not a creator
        # known only from LIVE Backstage downloads, known_from 'live_backstage': nothing of its own, counted below)
        "select count(*) from dim_accounts where documents_loaded > 0 or latest_followers is not null"
    ).fetchone()[0]:
        print(f"\nAccounts: {landed}   no daily overview yet (it comes from Studio's Overview and Viewers downloads)")
    else:
        print(f"\nNo account yet: drop your TikTok Studio downloads into {inbox} and run again.")
    if "rpt_account_freshness" in marts:
        folders = con.execute(  # e.g. backstage/: LIVE Backstage's creator data, whose rows name their creators
            """select account_handle, sum(exports_loaded), sum(exports_not_loaded) from rpt_account_freshness
            where is_agency_wide_folder group by 1 order by 1"""
        ).fetchall()
        if folders:
            listed = ", ".join(
                f"{folder}/ {loaded:,} loaded" + (f" ({failed:,} quarantined)" if failed else "")
                for folder, loaded, failed in folders
            )
            print(f"Agency-wide downloads (folders, not accounts; LIVE Backstage: fct_live_backstage_daily): {listed}")
    known_from = "select 1 from duckdb_columns() where table_name = 'dim_accounts' and column_name = 'known_from'"
    if con.execute(known_from).fetchall():  # a dim_accounts published before the column has no such creator
        creators = con.execute("select count(*) from dim_accounts where known_from = 'live_backstage'").fetchone()[0]
        if creators:
            print(f"LIVE creators known only from Backstage downloads: {creators:,} (dim_accounts.known_from)")


def print_trending(con) -> None:
    """The top 3 of each account's latest day in `rpt_trending_videos_7d`; one line saying why when it has none."""
    # the growth column is named after the trending window var (views_gained_7d by default)
    cursor = con.execute(
        """select t.account_handle, as_of_date, trending_rank, t.video_id, columns('^views_gained_\\d+d$'),
               has_full_window, v.video_title
        from rpt_trending_videos_7d t
        left join dim_videos v on v.account_handle = t.account_handle and v.video_id = t.video_id
        where as_of_date = (select max(as_of_date) from rpt_trending_videos_7d u
                            where u.account_handle = t.account_handle)
          and trending_rank <= 3
        order by t.account_handle, trending_rank"""
    )
    window = cursor.description[4][0].removeprefix("views_gained_").removesuffix("d")
    trending = cursor.fetchall()
    if not trending:  # e.g. Followers or Overview downloads only: no video has views to compare
        print(
            "Top trending videos: none yet (ranked by view growth from Content downloads or TikTok API video "
            f"pulls: a video is ranked once seen on two days up to {window} days apart, or posted within the last "
            f"{window} days)"
        )
        return
    print("Top trending videos on each account's latest day (top 3):")
    for handle, day, rank, video, gained, full, title in trending:
        print(
            f"  @{handle:<18} {day}  #{rank}  {_title(title, video)}  +{gained:,} views in {window} days"
            + ("" if full else "  (partial window)")
        )


def print_latest_lives(con) -> None:
    """Each account's latest LIVE from the published `fct_live_sessions`; nothing when it is absent or empty."""
    from zoneinfo import ZoneInfo

    if not con.execute("select count(*) from duckdb_views() where view_name = 'fct_live_sessions'").fetchone()[0]:
        return
    latest = con.execute(
        """select account_handle, started_at, coalesce(account_timezone, 'UTC'), duration_s, peak_viewers, hearts,
               diamonds
        from fct_live_sessions
        qualify row_number() over (partition by account_handle order by started_at desc, room_id desc) = 1
        order by account_handle"""
    ).fetchall()
    if latest:
        print("Latest LIVE per account (start in the account's time zone):")
    for handle, started, zone, duration_s, peak, hearts, diamonds in latest:
        local = started.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
        minutes = round(duration_s or 0) // 60
        duration = f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
        print(
            f"  @{handle:<18} {local:%Y-%m-%d %H:%M} {zone:<16} {duration:>7}  "
            + ("peak ? viewers" if peak is None else f"peak {peak:,} viewers")
            + f"  {hearts:,} hearts  {diamonds:,} diamonds"
        )


def print_run(
    paths: DataPaths, since: datetime | None, *, replayed: bool = False, run_started: datetime | None = None
) -> None:
    """New files per account with their days, this run's quarantined files, flags, and what is quarantined now."""
    from orchestration.lib.core.dbt_vars import handle_aliases
    from orchestration.lib.core.inbox import shown_name
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.studio.moved_files import moves_file
    from orchestration.lib.studio.run_summary import summarize_run

    with connect(paths.warehouse, read_only=True) as con:
        run = summarize_run(con, since, paths, run_started)
    try:  # files keep the handle they came under; the marts count them as the current account's
        aliases = handle_aliases()
    except ValueError:  # the landing said why
        aliases = {}
    # where a run ended without a summary (stopped, failed, the Dagster UI's), this one tells what that run landed too
    window = "since the last summary" if run.includes_earlier_runs else "this run"
    if since is not None:
        files = sum(a.files for a in run.new_files)
        # a folder of LIVE Backstage downloads only (agency-wide: each row names its creator) is no account
        folders = sum(a.agency_wide for a in run.new_files)
        counted = f"{len(run.new_files) - folders:,} account(s)" + (
            f", {folders:,} agency-wide folder(s)" if folders else ""
        )
        label = "Export files replayed" if replayed else f"New export files {window}"
        # export files are TikTok's CSV and XLSX files: a ZIP received holds one or more
        received = f", from {run.files_received:,} file(s) received" if files and run.files_received else ""
        print(f"\n{label}: {_count(files)}" + (f" ({counted}){received}" if files else ""))
        if run.landed_before_run:  # no summary told them: the run that landed them was stopped or failed
            print(
                f"  ({run.landed_before_run:,} of them landed by an earlier run that ended without a summary: stopped, "
                "failed, or run from the Dagster UI)"
            )
        for account in run.new_files[:SUMMARY_LINES]:
            days = f"{account.days:,} day" + ("s" if account.days != 1 else "")
            span = f"{account.first_day} → {account.last_day} ({days})" if account.days else "no days"
            named = f"{account.account_handle}/ (agency-wide)" if account.agency_wide else f"@{account.account_handle}"
            if current := aliases.get(account.account_handle):
                named += f" (a former handle of @{current})"
            print(f"  {named}: {account.files:,} file(s), covering {span}")
            print("      " + ", ".join(f"{kind} {count:,}" for kind, count in sorted(account.files_by_kind.items())))
        _more(run.new_files, "account(s)")
        if run.moved_this_run:
            print(f"Moved to another account's folder: {len(run.moved_this_run):,} (counted for that account only now)")
        for moved in run.moved_this_run[:SUMMARY_LINES]:
            days = f", {moved.first_day} → {moved.last_day}" if moved.first_day else ""
            print(f"  {moved.told()}{days}")
        _more(run.moved_this_run, "file(s)")
        if run.move_lines_unreadable:
            print(
                f"  {run.move_lines_unreadable:,} torn or unreadable line(s) of {moves_file(paths)} skipped: the moves "
                "they recorded are not applied (such a file counts for both accounts): restore it from a backup"
            )
        quarantined = "in this run" if window == "this run" else window
        print(f"Quarantined {quarantined}: {_count(len(run.quarantined_this_run))}{_ended(run)}")
        for item in run.quarantined_this_run[:SUMMARY_LINES]:
            named = f" (@{item.account_handle})" if item.account_handle else ""
            print(f"  {item.file}{named}: {shown_name(item.reason)}")
        _more(run.quarantined_this_run, f"file(s): reports in {paths.quarantine}")
    this_run = sum(run.flags_this_run.values())
    by_rule = ", ".join(f"{rule} {count:,}" for rule, count in run.flags_this_run.items())
    print(
        f"Flagged rows (landed, worth a look): {this_run:,} {window}"
        + (f" ({by_rule})" if by_rule else "")
        + f", {run.flags_in_total:,} in total"
        + (f" (raw.row_flags in {paths.warehouse}: open it read-only, between runs)" if run.flags_in_total else "")
    )
    print(
        f"Quarantined files now: {run.quarantined_now:,}"
        + (
            f" (listed in the report and rpt_quarantined_files; reports in {paths.quarantine}; a corrected file "
            "dropped at the same inbox path ends one)"
            if run.quarantined_now
            else ""
        )
    )


def _title(title: str | None, video_id: str) -> str:
    """A trending line names the video by its title (one line, cut at 50 characters), its id when untitled."""
    title = " ".join((title or "").split())
    if not title:
        return f"video {video_id}"
    return f'"{title[:49] + "…" if len(title) > 50 else title}" ({video_id})'


def _more(items: list, what: str) -> None:
    if len(items) > SUMMARY_LINES:
        print(f"  … {len(items) - SUMMARY_LINES:,} more {what}")


def _ended(run) -> str:
    """What became of the files quarantined in this run that no longer count (`RunSummary.corrected_since`)."""
    ended = [
        (run.corrected_since, "replaced since by a corrected file at the same inbox path"),
        (run.loaded_elsewhere, "the same file loaded from another inbox path, where it counts"),
        (run.unzipped_since, "a ZIP inside a ZIP also received as a file of its own, which counts instead"),
    ]
    ended = [(count, what) for count, what in ended if count]
    if len(ended) < 2:
        return "".join(f" ({count:,} more, {what})" for count, what in ended)
    return f" ({sum(count for count, _ in ended):,} more: " + "; ".join(f"{n:,} {what}" for n, what in ended) + ")"


def _count(number: int) -> str:
    """A count as every count of the summary is written (2,330), or `none`."""
    return f"{number:,}" if number else "none"
