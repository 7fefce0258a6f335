"""The benchmark's CPU seconds of a run (devtools/bench_run.py) count the command and the processes it waited
for, as the pipeline waits for its landing and great-expectations workers. No timing is asserted: the CPU a
grandchild reports about itself must be inside the figure. Its peak memory of dbt is that of the dbt worker,
told apart by its process name."""

import subprocess
import sys
import time

from orchestration.devtools import bench_run
from orchestration.devtools.bench_run import run_sampled
from orchestration.lib.core.paths import PROJECT_ROOT

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
