import atexit
import os
import sys
import threading

from orchestration.lib.core.collector import defer_until_started

if __name__ == "__main__":
    # The install leaves packages uncompiled (Makefile, UV_SYNC: compiling all ~12,000 modules was nearly all of
    # it), so a command writes the bytecode of what it imports, once, into the project's .venv and its git-ignored
    # __pycache__ folders, as the make verbs do, also where PYTHONDONTWRITEBYTECODE says not to (common in
    # containers): else every command, and the dbt and great-expectations workers it starts, would compile
    # Dagster, dbt and great-expectations again (their imports ~15 s instead of ~7). An explicit `python -B` is
    # kept. Where the .venv cannot be written, nothing is, and each command compiles again (README: install).
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        sys.dont_write_bytecode = False
    defer_until_started()  # full collections wait until the run's definitions are loaded (lib/core/collector.py)
    from orchestration.cli import main

    code = main()
    # Everything is written and closed by now. Exit as the interpreter does, waiting for any thread still working
    # and running the exit handlers (logging, temporary folders, worker pools), then skip only its teardown of
    # the thousands of modules Dagster, dbt and great-expectations loaded: ~1 s of every run. An exception in
    # main() exits the ordinary way, with its traceback.
    threading._shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
