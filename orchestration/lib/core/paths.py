"""Every path the pipeline touches, derived from one data directory.

`TIKTOK_DATA_DIR` names it (default `./data`). Dagster, dbt (through `DUCKDB_PATH`), the CLI and the
tests all go through `DataPaths`, so a test only has to point the variable at a temporary folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "TIKTOK_DATA_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def from_env(cls) -> DataPaths:
        return cls(Path(os.environ.get(DATA_DIR_ENV, "data")).resolve())

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
