"""Benchmark: where `make run` stands against the floor, for an agency backfill and for one more day.

    python -m orchestration.devtools.bench --accounts 300 --days 90      (what `make bench` runs)
    ... --history-compare 7,90    the same one-day increment on 7 and on 90 days of history
    ... --data-dir /tmp/x --keep  keep the scratch data directory (then `make ui DATA_DIR=/tmp/x`)

First, unless `--no-demo`, the demo's first `make run` in a new data directory, seeding included (issue 10's
"demo `make run` under 15 s"). Then, unless `--creator-days 0`, a single creator's daily run: one account with
`--days` days of history, then `--creator-days` days of its four downloads landed one after the other, and the
median day's wall after start-up (issue 10's "a creator's daily run with one new download should finish in seconds
after start-up"). Then it generates plain daily Studio drops with the demo generator
(`variety=False`: every account downloads the four sections every day, ZIPs; no LIVE files unless `--live`),
`--days` days of history and one more day. The history lands first, then the last day, each through what
`make run` runs (`make prepare`, then `python -m orchestration run` in a subprocess on the scratch data
directory, see `bench_run`). For each it prints files/s, rows/s, seconds per stage from the run's own event
log, total wall, CPU seconds (the pipeline and its workers), the share of the wall some task on the machine
waited on IO (`bench_run.io_stalled_s`) and peak memory of the pipeline, of dbt's worker and of its process
tree; then the floor
(`bench_floor`: the four contract marts by bare DuckDB SQL over the same files, measured in the same run), the
ratio `make run` / floor in wall and in CPU seconds (other work on a shared machine slows a run without adding to
its CPU seconds), and the floor's rows against the published marts (a difference is printed loudly: the floor
would not be computing the same thing). Finally the one-day increment on other lengths of history
(`--history-compare`, 7 days by default, against --days): `--day-repeats` days (3 by default) land one after the
other on each history, the histories taking turns after the first day on the long one, and their medians are
compared (one run of each swung by 20-40 % on a shared 2-core machine).
The landing steps (scan + archive, read, validate, load) come from the landing asset's `landing_seconds`
metadata; while the asset does not record it, the same files are landed again in process into a side data
directory to time them (`--no-landing-split` skips that). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import calendar
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from statistics import median

from orchestration.devtools.bench_floor import compare_with_marts, run_floor
from orchestration.devtools.bench_run import LANDING_SECONDS_KEY, RunFigures, timed_demo_run, timed_make_run
from orchestration.lib.core.archive import archive_mode_from_env
from orchestration.lib.core.paths import DataPaths

END_DATE = date(2026, 2, 20)  # the last generated day: the last of the days after the history
DAY_REPEATS = 3  # days landed one after the other on each history for the comparison (--day-repeats)
RUN_TO_FLOOR_TARGET = 4.0  # issue 10's targets, printed beside the figures
HISTORY_RATIO_TARGET = 1.5
DEMO_TARGET_S = 15.0
CREATOR_DAYS = 3  # a single creator's days landed one after the other (--creator-days; 0 skips the round)
START_UP_STAGES = ("prepare (make prepare)", "start-up (imports, definitions)")  # what every run pays first


def generate(staging: Path, accounts: int, days: int, live: bool, days_after: int = 1) -> int:
    """`days` days of history and `days_after` more days of daily drops into `staging`; the number of files."""
    from orchestration.devtools.demo import generate_demo_inbox

    summary = generate_demo_inbox(
        staging, accounts=accounts, days=days + days_after, end_date=END_DATE, variety=False, live=live
    )
    return summary.files_written


def cutoffs(days_after: int) -> list[float | None]:
    """`move_into_inbox`'s `before` for the history, then for each of the `days_after` days after it (the last:
    None, every file left): a day's files are those exported that day."""
    starts = [END_DATE - timedelta(days=days_after - 1 - n) for n in range(days_after)]
    return [calendar.timegm(day.timetuple()) for day in starts] + [None]


def move_into_inbox(staging: Path, inbox: Path, before: float | None) -> list[Path]:
    """Move generated files exported before `before` (epoch seconds; None: all) into the inbox, mtimes kept."""
    moved = []
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        if before is not None and path.stat().st_mtime >= before:
            continue
        target = inbox / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        moved.append(target)
    return moved


class LandingSplit:
    """The landing steps timed the old way (`land_inbox` in process) in a side data directory, for as long as
    the landing asset does not record its `landing_seconds`: the same files, landed again after each run."""

    def __init__(self, root: Path) -> None:
        self.paths = DataPaths(root).ensure()

    def land(self, files: list[Path], inbox: Path) -> dict[str, float]:
        from orchestration.lib.core.warehouse import connect
        from orchestration.lib.live.landing import LiveSource
        from orchestration.lib.studio.landing import land_inbox

        for path in files:  # copies, not links: the pipeline's archive may link to the inbox's inodes
            target = self.paths.inbox / path.relative_to(inbox)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        with connect(self.paths.warehouse) as con:
            return dict(land_inbox(self.paths, con, sources=[LiveSource()]).seconds)


def _rate(count: int, seconds: float | None) -> str:
    if not seconds:
        return "?"
    return f"{count / seconds:,.0f}" if count / seconds >= 10 else f"{count / seconds:.2f}"


def print_round(figures: RunFigures, landing_split: dict[str, float] | None) -> None:
    print(
        f"\n== {figures.label}: {figures.files_new:,} new files, {figures.rows_loaded:,} raw rows landed "
        f"(all Studio file kinds); load average {figures.load_before:.1f} before the run (2 cores)"
    )
    if figures.exit_code:
        print(f"   !! make run exited {figures.exit_code}: see {figures.log}")
        print("   " + "\n   ".join(figures.log.read_text(errors="replace").splitlines()[-25:]))
        return
    print(f"   make run wall                       {figures.wall_s:8.2f} s")
    for stage, seconds in figures.stages.items():
        note = ""
        if stage == "dbt build" and figures.dbt_first_result_s is not None:
            note = f"   (its first model built after {figures.dbt_first_result_s:.2f} s: dbt's parse and start-up)"
        print(f"     {stage:<33} {seconds:8.2f} s{note}")
        if stage == "landing":
            steps, source = figures.landing_steps, "from the run's metadata"
            if not steps and landing_split:
                steps, source = landing_split, f"landed again in process: the run records no {LANDING_SECONDS_KEY}"
            for step, step_seconds in steps.items():
                print(f"       {step:<31} {step_seconds:8.2f} s")
            print(
                f"       ({source})" if steps else f"       (steps not recorded by the run: no {LANDING_SECONDS_KEY})"
            )
    landing = figures.stages.get("landing")
    print(
        f"   throughput   {_rate(figures.files_new, figures.wall_s)} files/s, "
        f"{_rate(figures.rows_loaded, figures.wall_s)} rows/s end to end; landing step "
        f"{_rate(figures.files_new, landing)} files/s, {_rate(figures.rows_loaded, landing)} rows/s"
    )
    print(
        f"   CPU          {figures.cpu_s:,.2f} s user + system: the pipeline and its workers "
        f"({figures.cpu_s / figures.wall_s:.2f} of the 2 cores busy on average)"
    )
    if figures.io_stall_s is not None:
        print(
            f"   IO stall     {_share(figures.io_stall_s, figures.wall_s)} of the run: some task on the machine "
            "(this run or any other) waited on IO (/proc/pressure/io)"
        )
    peaks = figures.peaks
    print(
        f"   peak memory  pipeline {peaks.root_mb:,.0f} MiB"
        + (f", dbt {peaks.dbt_mb:,.0f} MiB" if peaks.dbt_mb else " (dbt ran inside it)")
        + f", process tree {peaks.tree_mb:,.0f} MiB (sampled every 50 ms)"
    )


def print_floor(paths: DataPaths, figures: RunFigures, work: Path) -> None:
    floor = run_floor(paths.inbox, work)
    phases = ", ".join(f"{phase} {seconds:.2f}" for phase, seconds in floor.seconds.items())
    stalled = "" if floor.io_stall_s is None else f"; IO stall {_share(floor.io_stall_s, floor.total_seconds)}"
    print(
        f"   floor        {floor.total_seconds:8.2f} s  bare DuckDB over all {floor.files_read:,} files in the inbox "
        f"({floor.rows_read:,} rows; {phases}{stalled})"
    )
    if floor.files_skipped:
        print(f"   !! the floor skipped {floor.files_skipped} inbox file(s) that are not Studio ZIPs")
    ratio = figures.wall_s / floor.total_seconds
    note = f"issue 10's target for a backfill: <= {RUN_TO_FLOOR_TARGET:g}x"
    if figures.label != "backfill":  # the floor has no history to build on: it recomputes every file
        note = "the floor recomputes the whole history; a daily run should cost well under it"
    print(f"   make run / floor  {ratio:6.1f}x   ({note})")
    print(
        f"   CPU: make run / floor {figures.cpu_s / floor.cpu_s:6.1f}x   ({figures.cpu_s:,.2f} s against the floor's "
        f"{floor.cpu_s:,.2f} s: the work itself, whatever else the machine was doing)"
    )
    for check in compare_with_marts(floor, paths.marts):
        if check.matches:
            print(f"     {check.mart:<28} floor {check.floor_rows:>9,} rows = marts {check.mart_rows:>9,}, identical")
        else:
            print(
                f"     !! MISMATCH {check.mart}: floor {check.floor_rows:,} rows, published mart "
                f"{'missing' if check.mart_rows is None else f'{check.mart_rows:,}'} rows; {check.only_in_floor:,} "
                f"rows only in the floor, {check.only_in_mart:,} only in the mart: the floor is not computing the "
                "same thing"
            )
    floor.con.close()


class History:
    """A scratch data directory whose generated drops land through what `make run` runs: its `days` days of
    history first, then each of the days after it, one per `land_next`."""

    def __init__(self, root: Path, accounts: int, days: int, live: bool, days_after: int) -> None:
        self.paths, self.staging = DataPaths(root).ensure(), root / "generated"
        self.files = generate(self.staging, accounts, days, live, days_after)
        self.cutoffs, self.landed = cutoffs(days_after), 0

    def land_next(self, label: str) -> tuple[RunFigures, list[Path]]:
        """The next drop moved into the inbox and the run timed; the files it moved."""
        moved = move_into_inbox(self.staging, self.paths.inbox, self.cutoffs[self.landed])
        self.landed += 1
        return timed_make_run(self.paths, label, self.paths.root / "bench-logs"), moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--days", type=int, default=90, help="days of history before the one more day")
    parser.add_argument("--data-dir", type=Path, help="scratch data directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data directory")
    parser.add_argument(
        "--history-compare",
        default="7",
        help="other history lengths (days, comma-separated) for the same one-day increment, compared with "
        "--days; 'none' skips it (default: 7)",
    )
    parser.add_argument(
        "--day-repeats",
        type=int,
        default=DAY_REPEATS,
        help="days landed one after the other on each history of --history-compare, whose medians are compared "
        f"(default: {DAY_REPEATS})",
    )
    parser.add_argument("--live", action="store_true", help="also generate the demo's LIVE files (no floor)")
    parser.add_argument("--no-landing-split", action="store_true", help="do not land again in process")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo's first `make run` (timed first)")
    parser.add_argument(
        "--creator-days",
        type=int,
        default=CREATOR_DAYS,
        help="a single creator's days (one account, --days of history) landed one after the other after the demo, "
        f"whose median is printed; 0 skips them (default: {CREATOR_DAYS})",
    )
    args = parser.parse_args(argv)
    if args.creator_days < 0:
        parser.error("--creator-days must be 0 or more")
    compare = [] if args.history_compare in ("", "none") else [int(d) for d in args.history_compare.split(",")]
    compare = sorted(set(compare) - {args.days})
    if args.day_repeats < 1:
        parser.error("--day-repeats must be 1 or more")
    repeats = args.day_repeats if compare else 1  # without a comparison: the backfill and one more day

    root = (args.data_dir or Path(tempfile.mkdtemp(prefix="tiktok-bench-"))).resolve()
    if not args.no_demo and print_demo_round(root / "demo-run") != 0:
        return 1
    if args.creator_days and print_creator_round(root / "creator", args.days, args.creator_days) != 0:
        return 1
    print(f"Generating {args.accounts} accounts × {args.days} days + {repeats} of daily Studio drops into {root} …")
    started = time.perf_counter()
    main_history = History(root, args.accounts, args.days, args.live, repeats)
    print(f"   {main_history.files:,} files in {time.perf_counter() - started:.1f} s; scratch data directory {root}")
    # root copies into the archive (a read-only link does not stop root's writes), 2-3x the scan + archive
    print(f"   archive mode: {archive_mode_from_env()} (TIKTOK_ARCHIVE_MODE; unset: link, copy for root)")

    split = None if args.no_landing_split else LandingSplit(root / "landing-split")
    for label in ("backfill", "one more day"):
        figures, moved = main_history.land_next(label)
        landing_split = None
        if split is not None and not figures.landing_steps and not figures.exit_code:
            try:
                landing_split = split.land(moved, main_history.paths.inbox)
            except Exception as error:  # a figure lost, not the benchmark
                print(f"   !! landing again in process failed ({type(error).__name__}: {error}); no landing steps")
        print_round(figures, landing_split)
        if figures.exit_code:
            return 1
        print_floor(main_history.paths, figures, root / "floor-work")
    one_more_day: dict[int, list[RunFigures]] = {args.days: [figures]}

    histories = {args.days: main_history}
    for days in compare:
        print(f"\nLanding {args.accounts} accounts × {days} days of history for the comparison …")
        histories[days] = History(root / f"history-{days}d", args.accounts, days, args.live, repeats)
        history, _ = histories[days].land_next(f"history of {days} days")
        if history.exit_code:
            print_round(history, None)
            return 1
        print(f"   history: {history.files_new:,} files in {history.wall_s:.1f} s")
    # Then the histories take turns, day after day, so that a slower spell of a shared machine weighs on each of
    # them (the long history's first day ran above, before the others were landed).
    for turn in range(repeats):
        for days, history in histories.items():
            if days == args.days and turn == 0:
                continue  # its first day is the "one more day" above
            day, _ = history.land_next(f"day {turn + 1} on {days} days")
            if day.exit_code:
                print_round(day, None)
                return 1
            one_more_day.setdefault(days, []).append(day)
    if len(one_more_day) > 1:
        print_history_comparison(args.accounts, one_more_day)
    if not args.keep and not args.data_dir:
        shutil.rmtree(root)
    return 0


def print_demo_round(root: Path) -> int:
    """The demo's first `make run` in a new data directory, before anything else (the agency's drop is not
    generated yet, and nothing was deleted: the disk is as quiet as it gets); its exit code."""
    figures = timed_demo_run(root, root / "bench-logs")
    print_round(figures, None)
    if not figures.exit_code:
        print(f"   demo make run / target  {figures.wall_s:6.2f} s   (issue 10's target: under {DEMO_TARGET_S:.0f} s)")
    return figures.exit_code


def print_creator_round(root: Path, days: int, repeats: int) -> int:
    """A single creator's daily run: one account's `days` days of history landed first, then `repeats` days of its
    downloads one after the other, each printed; then their median (`print_creator_days`). Its exit code."""
    print(f"\nLanding 1 account × {days} days of history for a creator's daily run …")
    creator = History(root, 1, days, False, repeats)
    history, _ = creator.land_next("a creator's history")
    if history.exit_code:
        print_round(history, None)
        return history.exit_code
    print(f"   history: {history.files_new:,} files in {history.wall_s:.1f} s")
    days_run = []
    for n in range(repeats):
        day, _ = creator.land_next(f"a creator's day {n + 1}")
        print_round(day, None)
        if day.exit_code:
            return day.exit_code
        days_run.append(day)
    print_creator_days(days_run)
    return 0


def print_creator_days(runs: list[RunFigures]) -> None:
    """The median of a creator's days (wall, CPU) and, of the run nearest it, the wall after what every run pays
    before touching data (`START_UP_STAGES`: make prepare, imports and the Dagster definitions)."""
    wall, typical = _median(runs, "wall_s"), _nearest_median(runs)
    start_up = sum(typical.stages.get(stage, 0.0) for stage in START_UP_STAGES)
    print(
        f"   a creator's day ({typical.files_new:,} new files, {len(runs)} days): median make run wall {wall:.2f} s, "
        f"CPU {_median(runs, 'cpu_s'):.2f} s; after start-up {typical.wall_s - start_up:.2f} s (the run nearest "
        f"the median, whose prepare, imports and definitions took {start_up:.2f} s)"
    )


def print_history_comparison(accounts: int, by_days: dict[int, list[RunFigures]]) -> None:
    """Each history's runs of the same one-day increment; the stages of its median run; the medians' ratio."""
    shortest, longest, order = min(by_days), max(by_days), sorted(by_days)
    # the run nearest each median gives the stages
    typical = {d: _nearest_median(runs) for d, runs in by_days.items()}
    stages = [s for s in typical[longest].stages if s in typical[shortest].stages]
    print(f"\n== the same one-day increment for {accounts} accounts on {' vs '.join(map(str, order))} days")
    print(f"   {'history':<33}" + "".join(f"{f'{days} days':>11}" for days in order))
    print(f"   {'days landed, one after the other':<33}" + "".join(f"{len(by_days[d]):>11}" for d in order))
    print(f"   {'new files (each day)':<33}" + "".join(f"{typical[d].files_new:>11,}" for d in order))
    for n in range(max(len(runs) for runs in by_days.values())):
        walls = [f"{by_days[d][n].wall_s:>11.2f}" if n < len(by_days[d]) else f"{'':>11}" for d in order]
        print(f"   {f'day {n + 1}: make run wall (s)':<33}" + "".join(walls))
    print(f"   {'median make run wall (s)':<33}" + "".join(f"{_median(by_days[d], 'wall_s'):>11.2f}" for d in order))
    print(f"   {'median make run CPU (s)':<33}" + "".join(f"{_median(by_days[d], 'cpu_s'):>11.2f}" for d in order))
    print(f"   {'median run, load average before':<33}" + "".join(f"{typical[d].load_before:>11.1f}" for d in order))
    if all(typical[d].io_stall_s is not None for d in order):
        shares = "".join(f"{_share(typical[d].io_stall_s, typical[d].wall_s):>11}" for d in order)
        print(f"   {'median run, IO stall':<33}" + shares)
    for stage in stages:
        print(f"     {stage:<31}" + "".join(f"{typical[d].stages.get(stage, 0.0):>11.2f}" for d in order))
    ratio = _median(by_days[longest], "wall_s") / _median(by_days[shortest], "wall_s")
    target = f"issue 10's target: <= {HISTORY_RATIO_TARGET:g}x"
    print(f"   {longest} days / {shortest} days: {ratio:.2f}x   (medians; {target})")
    cpu_ratio = _median(by_days[longest], "cpu_s") / _median(by_days[shortest], "cpu_s")
    print(f"   {longest} days / {shortest} days in CPU seconds: {cpu_ratio:.2f}x")


def _median(runs: list[RunFigures], figure: str) -> float:
    return median(getattr(run, figure) for run in runs)


def _nearest_median(runs: list[RunFigures]) -> RunFigures:
    """The run whose wall time is nearest the runs' median (the median run itself with an odd number of runs)."""
    wall = _median(runs, "wall_s")
    return min(runs, key=lambda run: abs(run.wall_s - wall))


def _share(stalled_s: float, wall_s: float) -> str:
    """Stalled seconds as a share of a wall time: '23 %'."""
    return f"{100 * stalled_s / wall_s:.0f} %" if wall_s > 0 else "?"


if __name__ == "__main__":
    sys.exit(main())
