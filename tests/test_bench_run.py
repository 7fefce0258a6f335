"""The benchmark's CPU seconds of a run (devtools/bench_run.py) count the command and the processes it waited
for, as the pipeline waits for its landing and great-expectations workers. No timing is asserted: the CPU a
grandchild reports about itself must be inside the figure."""

import sys

from orchestration.devtools.bench_run import run_sampled

BUSY = "import time\nwhile time.process_time() < 0.3: pass\nprint(time.process_time())"


def test_cpu_seconds_include_a_worker_the_command_waited_for(tmp_path):
    log = tmp_path / "run.log"
    parent = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {BUSY!r}], check=True)"
    code, started, ended, _, cpu_s = run_sampled([sys.executable, "-c", parent], log=log)
    worker_cpu_s = float(log.read_text().split()[-1])
    assert code == 0 and ended >= started
    assert worker_cpu_s >= 0.3
    assert cpu_s >= worker_cpu_s  # the worker's own CPU, plus its parent's start-up
