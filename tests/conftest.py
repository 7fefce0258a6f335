import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.lib.core.paths import DBT_PROJECT_DIR

# great-expectations and dbt must never phone home from a test run.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def dbt_manifest():
    """A manifest parsed from the dbt project as it is now (Dagster loads its assets from it)."""
    env = dict(os.environ, TIKTOK_DATA_DIR="/nonexistent/parse-only")  # parse opens no database
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run([str(dbt), "parse", "--quiet", "--profiles-dir", "."], cwd=DBT_PROJECT_DIR, env=env, check=True)
    return DBT_PROJECT_DIR / "target" / "manifest.json"
