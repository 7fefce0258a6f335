"""The benchmark's CPU seconds of a run (devtools/bench_run.py) count the command and the processes it waited
for, as the pipeline waits for its landing and great-expectations workers. No timing is asserted: the CPU a
grandchild reports about itself must be inside the figure. Its peak memory of dbt is that of the dbt worker,
told apart by its process name."""

import subprocess
import sys
import time

import pytest

from orchestration.devtools import bench_run
from orchestration.devtools.bench_run import RunFigures, run_sampled
from orchestration.lib.core.paths import PROJECT_ROOT, DataPaths

BUSY = "import time\nwhile time.process_time() < 0.3: pass\nprint(time.process_time())"


def test_cpu_seconds_include_a_worker_the_command_waited_for(tmp_path):
    log = tmp_path / "run.log"
    parent = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {BUSY!r}], check=True)"
    code, started, ended, _, cpu_s = run_sampled([sys.executable, "-c", parent], log=log)
    worker_cpu_s = float(log.read_text().split()[-1])
    assert code == 0 and ended >= started
    assert worker_cpu_s >= 0.3
    assert cpu_s >= worker_cpu_s  # the worker's own CPU, plus its parent's start-up


def test_the_dbt_worker_is_told_apart_by_its_process_name():
    code = "from orchestration.lib.core import dbt_worker as w\nw.name_process(w.PROCESS_NAME)\n"
    code += "import time\ntime.sleep(60)"
    named = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        deadline = time.monotonic() + 30
        while not bench_run._is_dbt(named.pid) and time.monotonic() < deadline:  # until it has named itself
            time.sleep(0.05)
        assert bench_run._is_dbt(named.pid)
        assert not bench_run._is_dbt(other.pid)
    finally:
        named.kill()
        other.kill()
        named.wait()
        other.wait()


def test_io_stall_is_the_kernels_some_total_in_seconds():
    psi = "some avg10=0.42 avg60=0.87 avg300=2.43 total=6051954266\nfull avg10=0.32 avg60=0.66 avg300=2.04 total=5\n"
    assert bench_run.io_stalled_s(psi) == pytest.approx(6051.954266)
    assert bench_run.io_stalled_s("full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n") is None  # no `some` line
    assert bench_run.io_stalled_s("some avg10=0.00 avg60=0.00 avg300=0.00 total=n/a\n") is None
    assert bench_run.stall_between(1.5, 4.0) == 2.5
    assert bench_run.stall_between(None, 4.0) is None and bench_run.stall_between(1.5, None) is None


def test_a_round_and_the_history_comparison_print_the_io_stall_as_a_share_of_the_wall(tmp_path, capsys):
    from orchestration.devtools.bench import print_history_comparison, print_round

    def run(label: str, wall_s: float, io_stall_s: float | None) -> RunFigures:
        return RunFigures(label, 0, tmp_path / "x.log", wall_s=wall_s, cpu_s=wall_s, io_stall_s=io_stall_s)

    print_round(run("backfill", 20.0, 5.0), None)
    assert "IO stall     25 % of the run:" in capsys.readouterr().out
    print_round(run("backfill", 20.0, None), None)  # a kernel without /proc/pressure: no line
    assert "IO stall" not in capsys.readouterr().out
    print_history_comparison(10, {7: [run("day", 8.0, 2.0)], 90: [run("day", 10.0, 0.5)]})
    row = next(line for line in capsys.readouterr().out.splitlines() if "median run, IO stall" in line)
    assert row.split()[-4:] == ["25", "%", "5", "%"]  # 2 of 8 s on 7 days, 0.5 of 10 s on 90


def test_no_pressure_file_means_no_figure(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_run, "PRESSURE_IO", tmp_path / "no-psi-here")
    assert bench_run.io_stalled_s() is None


def test_a_runs_io_stall_is_read_before_prepare_and_after_the_pipeline(tmp_path, monkeypatch):
    readings = iter([100.0, 102.5])  # the kernel's totals, in the order the round reads them
    monkeypatch.setattr(bench_run, "io_stalled_s", lambda: next(readings))
    monkeypatch.setattr(bench_run.shutil, "which", lambda name: None)  # no make: the pipeline alone
    monkeypatch.setattr(bench_run, "run_sampled", lambda args, **kw: (0, 10.0, 14.0, bench_run.TreePeaks(), 3.0))
    monkeypatch.setattr(bench_run, "_read_run", lambda *args: None)
    figures = bench_run.timed_make_run(DataPaths(tmp_path), "backfill", tmp_path / "logs")
    assert (figures.wall_s, figures.io_stall_s) == (4.0, 2.5)
    assert next(readings, "both read") == "both read"


def test_the_floors_io_stall_covers_its_timed_phases_and_prints_as_their_share(tmp_path, monkeypatch, capsys):
    import duckdb

    from orchestration.devtools import bench, bench_floor

    readings = iter([50.0, 50.5])
    monkeypatch.setattr(bench_floor, "io_stalled_s", lambda: next(readings))
    (tmp_path / "inbox").mkdir()
    floor = bench_floor.run_floor(tmp_path / "inbox", tmp_path / "work")  # an empty inbox: no file to read
    assert floor.io_stall_s == 0.5 and next(readings, "both read") == "both read"

    timed = {"unzip members": 1.5, "marts (SQL)": 0.5}
    shown = bench_floor.Floor(duckdb.connect(), seconds=timed, cpu_s=1.0, io_stall_s=0.5)
    monkeypatch.setattr(bench, "run_floor", lambda inbox, work: shown)
    monkeypatch.setattr(bench, "compare_with_marts", lambda floor, marts: [])
    bench.print_floor(
        DataPaths(tmp_path), RunFigures("backfill", 0, tmp_path / "x.log", wall_s=8.0, cpu_s=4.0), tmp_path
    )
    out = capsys.readouterr().out
    assert "IO stall 25 %)" in out  # 0.5 of the floor's 2.0 timed seconds
    assert "make run / floor     4.0x" in out


def test_the_demo_round_seeds_a_new_data_directory_then_times_make_run_in_its_demo(tmp_path, monkeypatch, capsys):
    """`make run`'s order (seed, then prepare and the run), the seeding counted in the wall and the CPU; a failed
    seeding stops the round before any run."""
    from orchestration.devtools import bench

    calls = []

    def seeded(args, *, log, **popen):
        calls.append((args[1:], popen["env"]["TIKTOK_DATA_DIR"]))
        return 0, 100.0, 101.5, bench_run.TreePeaks(), 1.25  # 1.5 s, 1.25 CPU-seconds

    def make_run(paths, label, log_dir):
        calls.append(("make run", paths.root))
        stages = {"prepare (make prepare)": 0.25, "landing": 3.0}
        return RunFigures(label, 0, log_dir / "run.log", wall_s=10.0, stages=stages, cpu_s=8.0)

    monkeypatch.setattr(bench_run, "run_sampled", seeded)
    monkeypatch.setattr(bench_run, "timed_make_run", make_run)
    figures = bench_run.timed_demo_run(tmp_path / "new", tmp_path / "logs")
    assert calls == [
        (["-m", "orchestration.devtools.seed_demo"], str(tmp_path / "new")),
        ("make run", tmp_path / "new" / "demo"),
    ]
    assert figures.stages == {
        "seed the demo (devtools/seed_demo.py)": 1.5,
        "prepare (make prepare)": 0.25,
        "landing": 3.0,
    }
    assert (figures.wall_s, figures.cpu_s, figures.exit_code) == (11.5, 9.25, 0)

    monkeypatch.setattr(bench, "timed_demo_run", lambda root, log_dir: figures)
    assert bench.print_demo_round(tmp_path / "again") == 0
    assert "demo make run / target   11.50 s   (issue 10's target: under 15 s)" in capsys.readouterr().out

    calls.clear()
    monkeypatch.setattr(bench_run, "run_sampled", lambda args, *, log, **popen: (2, 0.0, 0.1, None, 0.0))
    assert bench_run.timed_demo_run(tmp_path / "broken", tmp_path / "logs").exit_code == 2
    assert calls == []  # no run after a failed seeding


def test_a_creators_days_print_their_median_and_its_wall_after_start_up(tmp_path, capsys):
    """Issue 10: "a creator's daily run with one new download should finish in seconds after start-up". The median
    of three days is 6.40 s (the third day); after its prepare and start-up (0.15 + 2.25 s): 4.00 s."""
    from orchestration.devtools.bench import print_creator_days

    def day(wall_s: float, cpu_s: float, prepare: float, start_up: float) -> RunFigures:
        stages = {"prepare (make prepare)": prepare, "start-up (imports, definitions)": start_up, "dbt build": 2.0}
        return RunFigures("day", 0, tmp_path / "x.log", wall_s=wall_s, cpu_s=cpu_s, stages=stages, files_new=4)

    print_creator_days([day(7.0, 11.0, 0.2, 2.5), day(6.0, 10.0, 0.1, 2.0), day(6.4, 10.6, 0.15, 2.25)])
    assert capsys.readouterr().out.strip() == (
        "a creator's day (4 new files, 3 days): median make run wall 6.40 s, CPU 10.60 s; after start-up 4.00 s "
        "(the run nearest the median, whose prepare, imports and definitions took 2.40 s)"
    )


def test_the_benchmark_lands_a_creators_days_after_the_demo_unless_told_not_to(tmp_path, monkeypatch):
    from orchestration.devtools import bench

    asked = []
    monkeypatch.setattr(bench, "print_creator_round", lambda *args: asked.append(args) or 1)  # stops main there
    assert bench.main(["--no-demo", "--days", "30", "--creator-days", "2", "--data-dir", str(tmp_path)]) == 1
    assert asked == [(tmp_path.resolve() / "creator", 30, 2)]
    with pytest.raises(SystemExit) as refused:
        bench.main(["--no-demo", "--creator-days", "-1", "--data-dir", str(tmp_path)])
    assert refused.value.code == 2

    class AgencyDrop(Exception):
        pass

    def agency_drop(*args):
        raise AgencyDrop  # the agency's drop comes next: the creator's round was skipped

    monkeypatch.setattr(bench, "History", agency_drop)
    with pytest.raises(AgencyDrop):
        bench.main(["--no-demo", "--creator-days", "0", "--data-dir", str(tmp_path)])
    assert len(asked) == 1
