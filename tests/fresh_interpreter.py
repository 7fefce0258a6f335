"""Python code run in a fresh interpreter of the project (for what acts on a whole process: its imports, its
garbage collector), its last line of output read as JSON."""

import json
import os
import subprocess
import sys

from orchestration.lib.core.paths import PROJECT_ROOT


def run_fresh(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])
