import atexit
import os
import sys
import threading

from orchestration.lib.core.collector import defer_until_started

if __name__ == "__main__":
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
