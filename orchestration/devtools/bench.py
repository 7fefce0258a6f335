"""Benchmark: an agency-sized backfill, then one more daily drop on top of it.

    python -m orchestration.devtools.bench --accounts 300 --days 90      (what `make bench` runs)

Generates plain daily Studio drops with the demo generator into a scratch data directory, then times
each stage (landing + validation, dbt build, publishing) for the backfill and for the next day, and
prints files/s, seconds per stage and peak memory. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from orchestration.lib.core.paths import DBT_PROJECT_DIR, DataPaths


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _dbt_build(paths: DataPaths, min_date: str | None) -> float:
    dbt = Path(sys.executable).with_name("dbt")
    args = [str(dbt), "build", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR)]
    if min_date:
        args += ["--vars", f'{{"min_date": "{min_date}"}}']
    env = dict(os.environ, TIKTOK_DATA_DIR=str(paths.root))
    return _run_measuring_memory(args, cwd=DBT_PROJECT_DIR, env=env)


def _run_measuring_memory(args: list[str], **kwargs) -> float:
    """Run a command and return its peak resident memory in MB, sampled from /proc every 50 ms.

    (getrusage's RUSAGE_CHILDREN would report the parent's own peak: a forked child inherits it.)
    dbt runs its models on threads, so the process's own VmRSS covers the whole build.
    """
    process = subprocess.Popen(args, **kwargs)
    peak_kib = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak_kib = max(peak_kib, int(status.split("VmRSS:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.05)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args)
    return peak_kib / 1024


def _stage(name: str, action, results: dict) -> None:
    started = time.perf_counter()
    action()
    results[name] = time.perf_counter() - started


def run_round(paths: DataPaths, label: str) -> dict:
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.live.landing import LiveSource
    from orchestration.lib.marts.publish import publish_marts
    from orchestration.lib.studio.landing import land_inbox

    times: dict[str, float] = {}
    state = {}

    def land():
        with connect(paths.warehouse) as con:
            state["report"] = land_inbox(paths, con, sources=[LiveSource()])  # as the Dagster asset does

    _stage("landing + validation", land, times)
    report = state["report"]
    min_date = report.earliest_new_date
    dbt_min_date = None if label == "backfill" else str(min_date.date())
    _stage("dbt build", lambda: state.update(dbt_mb=_dbt_build(paths, dbt_min_date)), times)
    models = sorted(p.stem for p in (DBT_PROJECT_DIR / "models" / "marts").glob("*.sql"))
    _stage("publish", lambda: publish_marts(paths.warehouse, paths.marts, models), times)
    rows = sum(report.rows_by_kind.values())
    landing_s = times["landing + validation"]
    print(f"\n== {label}: {report.files_new:,} new files, {len(report.documents):,} documents, {rows:,} raw rows")
    for stage, seconds in times.items():
        print(f"   {stage:<22} {seconds:8.2f} s")
        if stage == "landing + validation":
            for step, step_seconds in report.seconds.items():
                print(f"     {step:<20} {step_seconds:8.2f} s")
    print(f"   {'total':<22} {sum(times.values()):8.2f} s")
    print(
        f"   landing throughput     {report.files_new / max(landing_s, 1e-9):8.0f} files/s, "
        f"{rows / max(landing_s, 1e-9):,.0f} rows/s"
    )
    print(
        f"   peak memory            {_peak_mb():8.0f} MB (landing + publishing process, so far), "
        f"{state['dbt_mb']:.0f} MB (dbt build)"
    )
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--data-dir", type=Path, help="scratch data directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data directory")
    args = parser.parse_args(argv)

    from orchestration.devtools.demo import generate_demo_inbox

    root = args.data_dir or Path(tempfile.mkdtemp(prefix="tiktok-bench-"))
    paths = DataPaths(root.resolve()).ensure()
    staging = root / "generated"
    end = date(2026, 2, 20)
    print(f"Generating {args.accounts} accounts × {args.days + 1} days of daily Studio drops into {staging} …")
    started = time.perf_counter()
    generate_demo_inbox(staging, accounts=args.accounts, days=args.days + 1, end_date=end, variety=False)
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    print(f"   {len(files):,} files in {time.perf_counter() - started:.1f} s")

    # Files exported on the last day are "tomorrow's drop"; the rest is the backfill.
    last_day_start = time.mktime((end - timedelta(days=0)).timetuple())
    for path in files:
        target = paths.inbox / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.stat().st_mtime < last_day_start:
            shutil.move(path, target)
    run_round(paths, "backfill")
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = paths.inbox / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    run_round(paths, "one more day")
    if not args.keep and not args.data_dir:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
