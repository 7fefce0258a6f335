"""`python -m orchestration.devtools.demo`: see `cli.main`."""

import sys

from orchestration.devtools.demo.cli import main

if __name__ == "__main__":  # (not again in the processes that record the LIVEs)
    sys.exit(main())
