"""Resources shared by every asset and sensor: where the data lives, and the working DuckDB."""

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.lib.core.paths import DataPaths, data_dir_from_env
from orchestration.lib.core.warehouse import connect


class DataDirResource(dg.ConfigurableResource):
    """The data directory (`TIKTOK_DATA_DIR`, default ./data); every other path derives from it."""

    data_dir: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths(Path(self.data_dir).resolve()).ensure()

    def warehouse(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """The working DuckDB, raw tables created; use as `with data_dir.warehouse() as con:` (closes it)."""
        return connect(self.paths.warehouse, read_only=read_only)


def data_dir_resource() -> DataDirResource:
    return DataDirResource(data_dir=str(data_dir_from_env()))
