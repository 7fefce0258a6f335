import atexit
import os
import sys

from orchestration.cli import main

# Guarded: a spawned worker (lib/marts/quality_worker.py) imports this module again as `__mp_main__`.
if __name__ == "__main__":
    code = main()
    # Everything is written and closed by now. Exit handlers run as usual (logging, temporary folders, the quality
    # worker); os._exit then skips only the interpreter tearing down the thousands of modules Dagster, dbt and
    # great-expectations loaded: ~1 s of every run. An exception in main() exits the ordinary way, with its traceback.
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
