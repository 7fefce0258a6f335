"""Resources shared by every asset and sensor: where the data lives, and the working DuckDB."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.lib.core.paths import DataPaths, data_dir_from_env
from orchestration.lib.core.replay_state import mark_when_new_beside_an_archive
from orchestration.lib.core.run_lock import WarehouseBusy, hold_run_lock
from orchestration.lib.core.warehouse import connect

# How long an asset waits for another run (the CLI, or another Dagster run) to release the warehouse.
RUN_LOCK_WAIT_SECONDS = 30 * 60


class DataDirResource(dg.ConfigurableResource):
    """The data directory (`TIKTOK_DATA_DIR`, default ./data); every other path derives from it."""

    data_dir: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths(Path(self.data_dir).resolve()).ensure()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the run lock (one run at a time), waiting for another run to end; fails clearly after the wait."""
        try:
            with hold_run_lock(self.paths.warehouse.parent, wait_seconds=RUN_LOCK_WAIT_SECONDS):
                yield
        except WarehouseBusy as busy:
            raise dg.Failure(description=str(busy)) from None

    @contextmanager
    def warehouse(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The working DuckDB, raw tables created, under the run lock: `with data_dir.warehouse() as con:`."""
        with self.exclusive():
            new = not self.paths.warehouse.exists()
            con = connect(self.paths.warehouse, read_only=read_only)
            try:
                if new and not read_only:  # a lost warehouse: the landing replays the archive first
                    mark_when_new_beside_an_archive(con, self.paths)
                yield con
            finally:
                con.close()


def data_dir_resource() -> DataDirResource:
    return DataDirResource(data_dir=str(data_dir_from_env()))


def validates_published_marts(context) -> bool:
    """Whether this run checks the published marts with great-expectations (the daily job; not a few assets picked
    in the UI): a GE worker started for a run that does not would outlive it under `make ui`, where a run's process
    does not run its exit handlers."""
    assets, checks = context.run.asset_selection, context.run.asset_check_selection
    if checks is not None:  # the checks picked
        return any(key.name == "great_expectations" for key in checks)
    # none picked: every check of the job (no asset picked either: None, or empty from execute_in_process), or of
    # the assets picked (the GE checks are the published marts')
    return not assets or any(key.path[0] == "published" for key in assets)
