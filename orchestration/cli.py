"""Command line: `python -m orchestration run` (what `make run` calls), `replay`, `live record @handle`.

`run` executes the same Dagster job the schedule runs, in this process, with a persistent Dagster
instance under <data>/warehouse/dagster_home so `make ui` shows the runs afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib.core import collector
from orchestration.lib.core.paths import PROJECT_ROOT, DataPaths
from orchestration.lib.core.run_lock import WarehouseBusy, hold_run_lock

EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the warehouse; try again later
EXIT_INTERRUPTED = 130  # a shell's code for a command stopped by Ctrl-C (128 + SIGINT)
SUMMARY_LINES = 20  # per list in the summary; the rest is in the UI, the quarantine folder and raw.row_flags
QUALITY_STEP = "published_marts_quality"  # defs/publish.py: great-expectations on the published files


def run_pipeline(paths: DataPaths, *, full_refresh: bool = False):
    """Run the daily job once, in process; returns the Dagster execution result."""
    import dagster as dg

    from orchestration.lib.core import dagster_dbt_import, dbt_worker
    from orchestration.lib.core.console_filters import ungated_checks_counted
    from orchestration.lib.core.dagster_home import PLANNED_EVENTS_BATCH, ensure_dagster_home

    # dbt's worker imports dbt on the other core while this process imports Dagster and lands the drop; a run with
    # nothing to build stops it unused (lib/core/dbt_worker.py). With dbt there, this process loads dagster-dbt
    # without dbt-core (lib/core/dagster_dbt_import.py: ~1 s)
    if dbt_worker.start():
        dagster_dbt_import.load_without_dbt_core()

    # the run's planned events reach the event log as one batch (defs/instance_storage.py), not one by one
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(PLANNED_EVENTS_BATCH))
    paths.ensure()
    ensure_dagster_home(paths.dagster_home)  # telemetry and the UI's sign-up dialog off
    from orchestration.definitions import defs

    job = defs().resolve_job_def("daily_pipeline")
    # The instance lives in the data directory (not wherever DAGSTER_HOME points), so `make ui` shows these runs.
    with dg.DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        collector.started()  # what start-up made lives as long as the run: later full collections skip it
        run_config = {
            "ops": {"dbt_models": {"config": {"full_refresh": full_refresh}}},
            # the terminal gets INFO and up; every DEBUG event (thousands per build) stays in the event log (the UI)
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        }
        with ungated_checks_counted() as ungated:
            result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)
        for step, count in ungated.items():  # one line, not one warning per check (console_filters)
            print(f"{count} blocking asset check(s) of {step} had no result this run (their models were not rebuilt)")
        return result


def print_summary(paths: DataPaths, since: datetime | None = None, *, replayed: bool = False) -> None:
    """What the data now holds, and what the run that started at `since` (naive UTC) did."""
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
    print_run(paths, since, replayed=replayed)
    print(f"Marts (parquet):   {paths.marts}")
    print(f"BI catalog:        {paths.analytics_db}  (open read-only, e.g. duckdb -readonly {paths.analytics_db})")
    print(f"Data quality:      {paths.quality_docs / 'checks.html'} (GE Data Docs: index.html beside it)")
    print(f"Report:            {paths.marts / 'report' / 'index.html'} (open it in a browser; make report rebuilds it)")
    # `make ui` alone serves ./data: another data dir (the demo's) needs naming, else its runs are not there
    ui = "make ui" if paths.root == (PROJECT_ROOT / "data").resolve() else f"make ui DATA_DIR={paths.root}"
    print(f"Dagster UI:        {ui}  → http://127.0.0.1:3000 (lineage, runs, asset checks)")


def print_accounts(con, inbox: Path, marts: list[str]) -> None:
    """How many accounts the marts hold, and the inbox folders of agency-wide files that are not accounts."""
    accounts, first, last = con.execute(
        "select count(distinct account_handle), min(metric_date), max(metric_date) from fct_account_overview_daily"
    ).fetchone()
    if accounts:
        print(f"\nAccounts: {accounts}   days covered: {first} → {last}")
    elif landed := con.execute(  # Followers, LIVE or API only: an account with something loaded
        "select count(*) from dim_accounts where documents_loaded > 0 or latest_followers is not null"
    ).fetchone()[0]:
        print(f"\nAccounts: {landed}   no daily overview yet (it comes from Studio's Overview and Viewers downloads)")
    else:
        print(f"\nNo account yet: drop your TikTok Studio downloads into {inbox} and run again.")
    if "rpt_account_freshness" not in marts:
        return
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


def report(paths: DataPaths) -> int:
    """Rebuild <data>/marts/report/ from the published marts and say where it is."""
    from orchestration.lib.report import build_report

    if not any(paths.marts.glob("*.parquet")):
        print(f"No published marts in {paths.marts} yet: run `make run` first.", file=sys.stderr)
        return 1
    print(f"Report: {build_report(paths.marts)}")
    return 0


def replay(paths: DataPaths) -> None:
    """Rebuild the raw tables from the archive alone: Studio and LIVE receipts from manifest.jsonl, API pulls
    from their archived responses (a deleted warehouse/ included); the caller then full-refreshes dbt."""
    from orchestration.lib.api.replay import replay_api_archive
    from orchestration.lib.core.replay_state import replay_under_way
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.live.landing import LiveSource
    from orchestration.lib.studio.landing import replay_archive

    with connect(paths.ensure().warehouse) as con, replay_under_way(con) as before_change:
        # unfinished (Ctrl-C, a kill), the next landing replays again first (defs/studio.py `replay_archives`)
        # asks for the full refresh (dbt_selection); marked before its first change, not while it checks the archive
        studio = replay_archive(paths, con, sources=[LiveSource()], before_change=before_change)
        api = replay_api_archive(paths, con)
    live = sum(source.receipts for source in studio.sources)
    print(
        f"Replayed {studio.files_seen - live:,} Studio receipts"
        + (f" and {live:,} LIVE receipts" if live else "")
        + f" ({len(studio.quarantined):,} documents quarantined)."
    )
    if studio.manifest_lines_unreadable:
        print(f"  skipped {studio.manifest_lines_unreadable:,} torn or unreadable line(s) of {paths.manifest}")
    statuses = ", ".join(f"{count:,} {status}" for status, count in sorted(api.by_status.items())) or "none"
    print(f"Replayed {len(api.pulls):,} API account pulls ({statuses}).")
    for problem, files in (("not a pull wrapper", api.unreadable), ("listed but missing", api.missing)):
        if files:
            print(f"  {len(files):,} API archive file(s) {problem}, e.g. {files[0]}")


def print_run(paths: DataPaths, since: datetime | None, *, replayed: bool = False) -> None:
    """New files per account with their days, this run's quarantined files, flags, and what is quarantined now."""
    from orchestration.lib.core.dbt_vars import handle_aliases
    from orchestration.lib.core.inbox import shown_name
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.studio.moved_files import moves_file
    from orchestration.lib.studio.run_summary import summarize_run

    with connect(paths.warehouse, read_only=True) as con:
        run = summarize_run(con, since, paths)
    try:  # files keep the handle they came under; the marts count them as the current account's
        aliases = handle_aliases()
    except ValueError:  # the landing said why
        aliases = {}
    if since is not None:
        files = sum(a.files for a in run.new_files)
        # a folder of LIVE Backstage downloads only (agency-wide: each row names its creator) is no account
        folders = sum(a.agency_wide for a in run.new_files)
        counted = f"{len(run.new_files) - folders:,} account(s)" + (
            f", {folders:,} agency-wide folder(s)" if folders else ""
        )
        label = "Export files replayed" if replayed else "New export files this run"
        # export files are TikTok's CSV and XLSX files: a ZIP received holds one or more
        received = f", from {run.files_received:,} file(s) received" if files and run.files_received else ""
        print(f"\n{label}: {_count(files)}" + (f" ({counted}){received}" if files else ""))
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
        print(f"Quarantined in this run: {_count(len(run.quarantined_this_run))}{_ended(run)}")
        for item in run.quarantined_this_run[:SUMMARY_LINES]:
            named = f" (@{item.account_handle})" if item.account_handle else ""
            print(f"  {item.file}{named}: {shown_name(item.reason)}")
        _more(run.quarantined_this_run, f"file(s): reports in {paths.quarantine}")
    this_run = sum(run.flags_this_run.values())
    by_rule = ", ".join(f"{rule} {count:,}" for rule, count in run.flags_this_run.items())
    print(
        f"Flagged rows (landed, worth a look): {this_run:,} this run"
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
    ]
    ended = [(count, what) for count, what in ended if count]
    if len(ended) < 2:
        return "".join(f" ({count:,} more, {what})" for count, what in ended)
    return f" ({sum(count for count, _ in ended):,} more: " + "; ".join(f"{n:,} {what}" for n, what in ended) + ")"


def _count(number: int) -> str:
    """A count as every count of the summary is written (2,330), or `none`."""
    return f"{number:,}" if number else "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daily job once")
    run.add_argument("--full-refresh", action="store_true", help="rebuild incremental marts from scratch")
    sub.add_parser("replay", help="re-read every archived file through today's contracts, then run the job")
    sub.add_parser("report", help="rebuild the HTML report from the published marts (no pipeline run)")
    live = sub.add_parser("live", help="record a TikTok LIVE (the optional `live` extra): live record @handle")
    live.add_argument("recorder_args", nargs=argparse.REMAINDER, help="record @handle [--out DIR] [--gzip]")
    args = parser.parse_args(argv)
    if args.command != "run":  # the start-up a `run` defers full collections for ends in run_pipeline
        collector.started()
    if args.command == "live":  # writes into the inbox only: no run lock, the pipeline lands it later
        from orchestration.live_recorder.__main__ import main as record_main

        return record_main(args.recorder_args)

    if args.command == "report":  # reads the published marts only (replaced atomically): no run lock
        return report(DataPaths.from_env())

    paths = DataPaths.from_env()
    try:  # one run at a time: a second one says so in one line instead of failing half-way in DuckDB
        with hold_run_lock(paths.ensure().warehouse.parent):
            return _command(args, paths)
    except WarehouseBusy as busy:
        print(busy, file=sys.stderr)
        return EXIT_BUSY


def _command(args: argparse.Namespace, paths: DataPaths) -> int:
    started = datetime.now(UTC).replace(tzinfo=None)  # documents landed from here on are this run's
    if args.command == "replay":
        from orchestration.lib.studio.landing import ReplayError

        try:
            replay(paths)
        except ReplayError as refused:  # nothing was changed: the message says why and what to do
            print(refused, file=sys.stderr)
            return 1
    # A replay may withdraw rows (a file now quarantined): only a full refresh removes them from marts.
    full_refresh = args.command == "replay" or args.full_refresh
    result = run_pipeline(paths, full_refresh=full_refresh)
    # a landing that found a replay unfinished replayed the archive first: its documents are replayed, not new
    replayed = args.command == "replay" or _landing_replayed(result)
    failed_steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    failed = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    # WARN checks (a quarantined file, flagged rows, dbt tests of TikTok's own arithmetic, a stale account or an
    # empty published mart) are reported, not fatal.
    failed_checks = [_told(c) for c in failed if c.severity.value == "ERROR"]
    warned_checks = [_told(c) for c in failed if c.severity.value != "ERROR"]
    # the great-expectations step fails on its ERROR checks (so that Dagster's run fails too): told as checks, below
    quality_failed = QUALITY_STEP in failed_steps and any(
        c.check_name == "great_expectations" and c.severity.value == "ERROR" for c in failed
    )  # else it crashed: told as a failed step
    failed_steps = [step for step in failed_steps if not (quality_failed and step == QUALITY_STEP)]
    if stopped := _interrupted_steps(result):  # Ctrl-C: the user's own doing, no failure to alert anyone about
        print(f"Stopped (Ctrl-C) in: {', '.join(stopped)}. The next run does what this one left.", file=sys.stderr)
        return EXIT_INTERRUPTED
    if failed_steps:
        print(
            f"The pipeline failed in: {', '.join(failed_steps)}. See the log above or `make ui`.",
            file=sys.stderr,
        )
        alert_failed_run(paths, result, failed_steps)
        return 1
    print_summary(paths, started, replayed=replayed)
    if warned_checks:
        print(f"\n{len(warned_checks)} check(s) warned: " + "; ".join(warned_checks[:10]))
    if failed_checks:
        print(f"\n{len(failed_checks)} check(s) failed: " + "; ".join(failed_checks[:10]), file=sys.stderr)
        if quality_failed:
            alert_failed_run(paths, result, [QUALITY_STEP])
        return 1
    return 0


def _interrupted_steps(result) -> list[str]:
    """The steps a Ctrl-C stopped (Dagster reports them as failed, with the interrupt as their error)."""
    return [
        event.step_key
        for event in result.all_events
        if event.event_type_value == "STEP_FAILURE"
        and (error := event.event_specific_data.error) is not None
        and error.cls_name in ("KeyboardInterrupt", "DagsterExecutionInterruptedError")
    ]


def _told(check) -> str:
    """A check that did not pass, with what failed in it when it says (great-expectations: grain, recency, ...)."""
    failed = check.metadata.get("failed")
    names = [str(name) for name in failed.value] if failed is not None and isinstance(failed.value, list) else []
    return f"{check.check_name} on {check.asset_key.to_user_string()}" + (f" ({', '.join(names)})" if names else "")


def _landing_replayed(result) -> bool:
    """Whether the run's landing replayed the archive (defs/studio.py: its `archive_replayed` metadata)."""
    return any(
        (replayed := event.event_specific_data.materialization.metadata.get("archive_replayed")) is not None
        and replayed.value is True
        for event in result.all_events
        if event.event_type_value == "ASSET_MATERIALIZATION"
    )


def alert_failed_run(paths: DataPaths, result, failed_steps: list[str]) -> None:
    """alerts.yml's run_failed rule for this run (Dagster's run-failure sensor only runs beside `make ui`;
    when both see the run, the alert's key, the run id, sends it once)."""
    from orchestration.lib.alerts import AlertsConfigError, alert_run_failed, innermost_error

    errors = [e.event_specific_data.error for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    try:
        outcome = alert_run_failed(
            paths,
            run_id=result.run_id,
            job_name=result.job_def.name,
            failed_steps=failed_steps,
            error=innermost_error(errors[0]) if errors and errors[0] else "",
        )
    except AlertsConfigError as error:
        print(f"Alert not sent: {error}", file=sys.stderr)
        return
    if outcome.failed:
        print(f"Alert not delivered (the next run tries again): {', '.join(outcome.failed)}", file=sys.stderr)
