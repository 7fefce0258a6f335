"""One timed `make run` for the benchmark: `make prepare`, then `python -m orchestration run` in a subprocess.

    figures = timed_make_run(data_dir, "backfill", log_dir)

The pipeline runs exactly as the Makefile's `run` target runs it (TIKTOK_DATA_DIR and DAGSTER_HOME on the
scratch data directory), so whatever speeds up `make run` shows here. While it runs, the process tree is
sampled from /proc every 50 ms: the peak resident memory of the pipeline process, of dbt's worker process (or a
`dbt` subprocess) if one is started (VmHWM, each process's own high-water mark) and of the whole tree, the
great-expectations worker included (VmRSS summed per sample). Afterwards the seconds per stage come from
the run itself: Dagster's STEP_START / STEP_SUCCESS events in the run's event log, the files and rows from
the landing asset's materialization metadata, and the landing steps from its `landing_seconds` metadata
when the asset records it. Beside them, how long some task on the machine waited on IO during the run (Linux's
pressure stall information, `io_stall_s`): a stalled disk slows a run without adding to its CPU seconds, and says
why two runs of the same code differ.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib.core import dbt_worker
from orchestration.lib.core.paths import PROJECT_ROOT, DataPaths

# Dagster step key -> stage name, in the order the job runs them; other steps print under their key.
STEP_STAGES = {
    "studio_exports": "landing",
    "tiktok_api_pulls": "API pulls",
    "dbt_models": "dbt build",
    "published_marts": "publish",
    "alerts__sent": "alerts",
    "published_marts_quality": "quality (great-expectations)",
    "report__index": "report",
}
LANDING_SECONDS_KEY = "landing_seconds"  # JSON {step: seconds} on a studio_exports materialization
SAMPLE_EVERY_S = 0.05
PRESSURE_IO = Path("/proc/pressure/io")


@dataclass
class TreePeaks:
    """Peak memory in MiB of a process tree: the root, dbt, and the whole tree at one moment."""

    root_mb: float = 0.0
    dbt_mb: float = 0.0
    tree_mb: float = 0.0


@dataclass
class RunFigures:
    label: str
    exit_code: int
    log: Path
    wall_s: float = 0.0  # prepare + run, as `make run` pays them
    stages: dict[str, float] = field(default_factory=dict)  # in order
    landing_steps: dict[str, float] = field(default_factory=dict)  # from the run's metadata, if recorded
    dbt_first_result_s: float | None = None  # dbt's start-up, roughly: its step start to its first model done
    files_new: int = 0
    rows_loaded: int = 0
    peaks: TreePeaks = field(default_factory=TreePeaks)
    load_before: float = 0.0  # 1-minute load average when the round started: other work on the machine
    # CPU seconds (user + system) of the pipeline and the workers it ran: steadier than wall time on a machine
    # shared with other work, which slows a run without adding to its CPU
    cpu_s: float = 0.0
    io_stall_s: float | None = None  # seconds some task on the machine waited on IO meanwhile; None: not told


def io_stalled_s(text: str | None = None) -> float | None:
    """Seconds some task has waited on IO since boot, machine-wide: the `some ... total=` microseconds of
    /proc/pressure/io (or of `text`, its content). None where the kernel does not say (no PSI, not Linux)."""
    if text is None:
        try:
            text = PRESSURE_IO.read_text()
        except OSError:
            return None
    for line in text.splitlines():
        kind, _, fields = line.partition(" ")
        if kind == "some":
            totals = [field.removeprefix("total=") for field in fields.split() if field.startswith("total=")]
            return int(totals[0]) / 1e6 if totals and totals[0].isdigit() else None
    return None


def stall_between(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _status_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB; (0, 0) once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            fields = dict(line.split(":", 1) for line in handle if line.startswith(("VmRSS", "VmHWM")))
    except OSError:
        return 0, 0
    return tuple(int(fields.get(key, "0 kB").split()[0]) for key in ("VmRSS", "VmHWM"))


def _is_dbt(pid: int) -> bool:
    """A `dbt` subprocess, or the pipeline's dbt worker (`lib/core/dbt_worker.py`, named by its /proc comm)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")[:2]
        with open(f"/proc/{pid}/comm", "rb") as handle:
            name = handle.read().strip().decode(errors="replace")
    except OSError:
        return False
    return name == dbt_worker.PROCESS_NAME or any(os.path.basename(arg) == b"dbt" for arg in argv)


def run_sampled(args: list[str], *, log: Path, **popen) -> tuple[int, float, float, TreePeaks, float]:
    """Run a command (output to `log`), sampling its process tree; (exit code, started, ended, peaks, CPU seconds of
    the command and of the processes it waited for)."""
    peaks = TreePeaks()
    with log.open("ab") as out:
        cpu_before = _children_cpu_s()
        started = time.time()
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **popen)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                tree, frontier, total = [], [process.pid], 0
                while frontier:
                    pid = frontier.pop()
                    tree.append(pid)
                    frontier += _children(pid)
                for pid in tree:
                    rss, hwm = _status_kib(pid)
                    total += rss
                    if pid == process.pid:
                        peaks.root_mb = max(peaks.root_mb, hwm / 1024)
                    elif _is_dbt(pid):
                        peaks.dbt_mb = max(peaks.dbt_mb, hwm / 1024)
                peaks.tree_mb = max(peaks.tree_mb, total / 1024)
                done.wait(SAMPLE_EVERY_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        ended = time.time()
        done.set()
        sampler.join()
    return code, started, ended, peaks, _children_cpu_s() - cpu_before


def _children_cpu_s() -> float:
    """User + system seconds of this process's children that ended and were waited for (and of theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pipeline_env(paths: DataPaths) -> dict[str, str]:
    """The environment the Makefile gives `python -m orchestration run`."""
    return dict(
        os.environ,
        TIKTOK_DATA_DIR=str(paths.root),
        DAGSTER_HOME=str(paths.dagster_home),
        GX_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
    )


def timed_make_run(paths: DataPaths, label: str, log_dir: Path) -> RunFigures:
    """`make prepare` (what `make run` runs first, skipped without make) then the pipeline, both timed."""
    log_dir.mkdir(parents=True, exist_ok=True)
    figures = RunFigures(label, 0, log_dir / f"{label.replace(' ', '-')}.log", load_before=os.getloadavg()[0])
    stalled_before = io_stalled_s()
    env = pipeline_env(paths)
    if shutil.which("make") and (PROJECT_ROOT / "Makefile").exists():
        make = ["make", "--no-print-directory", "-s", "prepare", f"DATA_DIR={paths.root}"]
        code, started, ended, _, figures.cpu_s = run_sampled(make, log=figures.log, cwd=PROJECT_ROOT, env=env)
        figures.stages["prepare (make prepare)"] = ended - started
        if code:
            figures.exit_code = code
            return figures
    args = [sys.executable, "-m", "orchestration", "run"]
    code, started, ended, figures.peaks, cpu_s = run_sampled(args, log=figures.log, cwd=PROJECT_ROOT, env=env)
    figures.cpu_s += cpu_s
    figures.exit_code = code
    figures.wall_s = sum(figures.stages.values()) + ended - started
    figures.io_stall_s = stall_between(stalled_before, io_stalled_s())
    _read_run(paths, figures, started, ended)
    return figures


def timed_demo_run(root: Path, log_dir: Path) -> RunFigures:
    """A newcomer's first `make run`, in the new data directory `root`: the bundled demo seeded into `root/demo`
    (`devtools/seed_demo.py`, in a process of its own as the Makefile runs it), then `timed_make_run` there. Time it
    in a data directory nobody just deleted: the file system's discards stall the disk for seconds afterwards."""
    from orchestration.devtools.seed_demo import demo_paths

    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "demo-seed.log"
    stalled_before = io_stalled_s()
    seed = [sys.executable, "-m", "orchestration.devtools.seed_demo"]
    env = dict(os.environ, TIKTOK_DATA_DIR=str(root))
    code, started, ended, _, cpu_s = run_sampled(seed, log=log, cwd=PROJECT_ROOT, env=env)
    if code:
        return RunFigures("demo make run", code, log)
    figures = timed_make_run(demo_paths(DataPaths(root)), "demo make run", log_dir)
    figures.stages = {"seed the demo (devtools/seed_demo.py)": ended - started, **figures.stages}
    figures.wall_s += ended - started
    figures.cpu_s += cpu_s
    figures.io_stall_s = stall_between(stalled_before, io_stalled_s())
    return figures


def _read_run(paths: DataPaths, figures: RunFigures, started: float, ended: float) -> None:
    """Stages, files, rows and landing steps from the newest Dagster run of `paths` (started after `started`)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            figures.stages["run (no Dagster run recorded)"] = ended - started
            return
        records = instance.all_logs(runs[0].run_id)
    events = [(r.timestamp, r.step_key, r.dagster_event) for r in records if r.dagster_event is not None]
    run_start = next((t for t, _, e in events if e.event_type_value in ("RUN_START", "PIPELINE_START")), None)
    if run_start is None or run_start < started:
        figures.stages["run (its events not found)"] = ended - started
        return
    run_end = max(t for t, _, _ in events)
    figures.stages["start-up (imports, definitions)"] = run_start - started
    step_started: dict[str, float] = {}
    in_steps = 0.0
    for timestamp, step, event in events:
        kind = event.event_type_value
        if kind == "STEP_START":
            step_started[step] = timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and step in step_started:
            seconds = timestamp - step_started[step]
            figures.stages[STEP_STAGES.get(step, step)] = seconds
            in_steps += seconds
        elif kind in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION") and step == "dbt_models":
            if figures.dbt_first_result_s is None and step in step_started and _built(event):
                figures.dbt_first_result_s = timestamp - step_started[step]
        if kind == "ASSET_MATERIALIZATION" and step == "studio_exports":
            _landing_metadata(event.event_specific_data.materialization.metadata, figures)
    figures.stages["Dagster between steps"] = max(0.0, run_end - run_start - in_steps)
    figures.stages["summary + exit"] = ended - run_end


def _built(event) -> bool:
    """A result of dbt's build, not a mart the build left as it was (`rebuilt: false`, yielded before it)."""
    materialization = getattr(event.event_specific_data, "materialization", None)
    rebuilt = materialization.metadata.get("rebuilt") if materialization is not None else None
    return getattr(rebuilt, "value", rebuilt) is not False


def _landing_metadata(metadata: dict, figures: RunFigures) -> None:
    def value(key):
        entry = metadata.get(key)
        return getattr(entry, "value", entry)

    figures.files_new += int(value("files_newly_archived") or 0)
    figures.rows_loaded += int(value("rows_loaded") or 0)
    steps = value(LANDING_SECONDS_KEY)
    if isinstance(steps, dict):
        for step, seconds in steps.items():
            figures.landing_steps[step] = figures.landing_steps.get(step, 0.0) + float(seconds)
