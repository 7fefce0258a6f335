import atexit
import os
import sys

from orchestration.cli import main

code = main()
# Everything is written and closed by now. Exit handlers run as usual (logging, temporary folders); os._exit then
# skips only the interpreter tearing down the thousands of modules Dagster, dbt and great-expectations loaded,
# which took ~1 s of every run. An exception in main() still exits the ordinary way, with its traceback.
atexit._run_exitfuncs()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code or 0)
