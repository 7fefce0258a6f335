"""Resources shared by every asset: where the data lives. Paths come from the environment once."""

import dagster as dg

from orchestration.lib.core.paths import DATA_DIR_ENV, DataPaths


class DataDirResource(dg.ConfigurableResource):
    """The data directory (`TIKTOK_DATA_DIR`, default ./data); every other path derives from it."""

    data_dir: str = "data"

    @property
    def paths(self) -> DataPaths:
        from pathlib import Path

        return DataPaths(Path(self.data_dir).resolve()).ensure()


def data_dir_resource() -> DataDirResource:
    return DataDirResource(data_dir=dg.EnvVar(DATA_DIR_ENV).get_value("data") or "data")
