"""Command line: `python -m orchestration run` (what `make run` calls), `replay`, `live record @handle`.

`run` executes the same Dagster job the schedule runs, in this process, with a persistent Dagster
instance under <data>/warehouse/dagster_home so `make ui` shows the runs afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from orchestration.cli_summary import print_summary
from orchestration.lib.core import collector
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.run_lock import WarehouseBusy, hold_run_lock
from orchestration.lib.core.stop_signals import recording, stop_of

EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the warehouse; try again later
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
    with recording() as signals:  # Ctrl-C or SIGTERM during the run: told as a stop, below
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
    # Ctrl-C or SIGTERM: the user's (or a scheduler's) own doing, no failure to alert anyone about, when every failed
    # step failed with an interrupt (DuckDB's own, mid-query, included: lib/core/stop_signals.py)
    if stop := stop_of(result, signals):
        where = f" in: {', '.join(stop.steps)}" if stop.steps else ""
        print(f"Stopped ({stop.told}){where}. The next run does what this one left.", file=sys.stderr)
        return stop.exit_code
    if failed_steps:
        print(
            f"The pipeline failed in: {', '.join(failed_steps)}. See the log above or `make ui`.",
            file=sys.stderr,
        )
        alert_failed_run(paths, result, failed_steps)
        return 1
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.studio.run_summary import mark_summary_told, summary_since

    told_through = datetime.now(UTC).replace(tzinfo=None)  # the run ended: whatever it landed, it landed before
    with connect(paths.warehouse) as con:  # from where the last summary ended: a stopped run's files are told too
        since = summary_since(con, started)
    print_summary(paths, since, replayed=replayed, run_started=started)
    with connect(paths.warehouse) as con:
        mark_summary_told(con, told_through)
    if warned_checks:
        print(f"\n{len(warned_checks)} check(s) warned: " + "; ".join(warned_checks[:10]))
    if failed_checks:
        print(f"\n{len(failed_checks)} check(s) failed: " + "; ".join(failed_checks[:10]), file=sys.stderr)
        if quality_failed:
            alert_failed_run(paths, result, [QUALITY_STEP])
        return 1
    return 0


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
