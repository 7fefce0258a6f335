"""One run at a time: a second run says so in one line (CLI) or waits its turn (Dagster assets)."""

import os
import re
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest

import orchestration.defs.resources as resources
from orchestration.lib.core.paths import PROJECT_ROOT, DataPaths
from orchestration.lib.core.run_lock import WarehouseBusy, hold_run_lock, lock_path

# A second process that takes the run lock, says so, and holds it until killed (or for N seconds).
HOLDER = """
import sys, time
from pathlib import Path
from orchestration.lib.core.run_lock import hold_run_lock
with hold_run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""
BUSY_LINE = re.compile(
    r"another run is in progress since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(pid (\d+)\); try again when it ends"
)


def _hold(warehouse_dir, seconds=60.0) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse_dir), str(seconds)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.fixture
def paths(tmp_path):
    return DataPaths(tmp_path / "data").ensure()


def test_a_second_cli_run_prints_one_line_and_exits_non_zero(paths):
    holder = _hold(paths.warehouse.parent)
    try:
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "orchestration", "run"],
            cwd=PROJECT_ROOT,
            env=dict(os.environ, TIKTOK_DATA_DIR=str(paths.root)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 75, second
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
    match = BUSY_LINE.fullmatch(lines[0])
    assert match and int(match.group(1)) == holder.pid, lines[0]
    assert second.stdout == ""
    assert elapsed < 20, "the second run does not wait"
    assert not paths.warehouse.exists(), "the second run never opened the warehouse"


def test_the_lock_dies_with_its_holder_even_when_killed(paths):
    holder = _hold(paths.warehouse.parent)
    with pytest.raises(WarehouseBusy):
        with hold_run_lock(paths.warehouse.parent):
            pass
    holder.send_signal(signal.SIGKILL)  # a crash: no cleanup code runs
    holder.wait()
    with hold_run_lock(paths.warehouse.parent):  # the OS released the flock
        assert lock_path(paths.warehouse.parent).read_text().split()[0] == str(os.getpid())


def test_a_dagster_asset_waits_for_the_other_run_then_proceeds(paths):
    # the clock starts before the holder does, which holds the lock for 1.5 s after taking it: whatever stalls this
    # process meanwhile, the asset cannot have it sooner (timed from after `_hold`, a stall of ~1 s there failed it)
    started = time.monotonic()
    holder = _hold(paths.warehouse.parent, seconds=1.5)
    resource = resources.DataDirResource(data_dir=str(paths.root))
    with resource.warehouse() as con:  # waits (up to RUN_LOCK_WAIT_SECONDS) until the holder ends
        waited = time.monotonic() - started
        assert con.execute("select count(*) from raw.documents").fetchone() == (0,)
    holder.wait()
    assert holder.returncode == 0, "the holder ran its full time: the asset did not barge in"
    assert waited >= 1.5


def test_a_dagster_asset_gives_up_after_its_wait_with_the_same_line(paths, monkeypatch):
    monkeypatch.setattr(resources, "RUN_LOCK_WAIT_SECONDS", 0.3)
    holder = _hold(paths.warehouse.parent)
    try:
        with pytest.raises(dg.Failure) as failure:
            with resources.DataDirResource(data_dir=str(paths.root)).warehouse():
                pass
    finally:
        holder.kill()
        holder.wait()
    assert BUSY_LINE.fullmatch(failure.value.description), failure.value.description


def test_the_lock_is_reentrant_within_one_process(paths):
    # the CLI holds it and runs the Dagster job in the same process, whose assets take it again
    resource = resources.DataDirResource(data_dir=str(paths.root))
    with hold_run_lock(paths.warehouse.parent):
        with resource.warehouse() as con:
            con.execute("select 1")
        with resource.exclusive():
            pass
    holder = _hold(paths.warehouse.parent, seconds=0.1)  # released: another process gets it at once
    holder.wait()
    assert holder.returncode == 0
