"""`python -m orchestration.devtools.demo`: see `cli.main`."""

import sys

from orchestration.devtools.demo.cli import main

sys.exit(main())
