"""Every path the pipeline touches, derived from one data directory.

`TIKTOK_DATA_DIR` names it; this module is the only Python code that reads it (`data_dir_from_env`).
Unset, it is `<project>/data`; a relative value is taken from the project root, not from the current
directory, so that dbt (whose `profiles.yml` derives the warehouse path from the same variable, with
the same rule) and Dagster always agree on one warehouse. A test points the variable at a temporary
folder and everything follows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "TIKTOK_DATA_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def data_dir_from_env() -> Path:
    """The data directory `TIKTOK_DATA_DIR` names (relative to the project root), absolute."""
    return (PROJECT_ROOT / os.environ.get(DATA_DIR_ENV, "data")).resolve()


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def from_env(cls) -> DataPaths:
        return cls(data_dir_from_env())

    # raw/: what was received, kept as received
    @property
    def inbox(self) -> Path:
        return self.root / "raw" / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "raw" / "archive"

    @property
    def manifest(self) -> Path:
        """Append-only JSON lines, one per archived object: the archive can rebuild everything."""
        return self.archive / "manifest.jsonl"

    @property
    def api_manifest(self) -> Path:
        """One JSON line per archived API account pull (lib/api/archive.py)."""
        return self.archive / "api" / "manifest.jsonl"

    @property
    def quarantine(self) -> Path:
        return self.root / "raw" / "quarantine"

    # the pipeline's own working state (rebuildable from raw/)
    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "pipeline.duckdb"

    @property
    def work(self) -> Path:
        return self.root / "warehouse" / "work"

    @property
    def dagster_home(self) -> Path:
        return self.root / "warehouse" / "dagster_home"

    # marts/: what BI tools read
    @property
    def marts(self) -> Path:
        return self.root / "marts"

    @property
    def analytics_db(self) -> Path:
        return self.marts / "analytics.duckdb"

    @property
    def quality_docs(self) -> Path:
        return self.marts / "quality"

    def ensure(self) -> DataPaths:
        for folder in (self.inbox, self.archive, self.quarantine, self.warehouse.parent, self.work, self.marts):
            folder.mkdir(parents=True, exist_ok=True)
        return self
