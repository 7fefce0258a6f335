"""dbt models as Dagster assets, their tests as asset checks.

The dbt project object is built lazily (`build_dbt_assets` runs when Dagster loads definitions, not at
import). Its manifest is prepared by `make` (`dbt parse`) or by `dagster dev` itself.
"""

import json
import shutil
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.resources import DataDirResource
from orchestration.lib.core.paths import DBT_PROJECT_DIR, data_dir_from_env
from orchestration.lib.core.warehouse import clear_pending_min_date, pending_min_date


class LayeredTranslator(DagsterDbtTranslator):
    """Asset keys and groups follow the dbt folders: staging/…, intermediate/…, marts/…."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key → raw/…
        return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        fqn = props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    if not project.manifest_path.exists():
        raise FileNotFoundError(
            f"dbt manifest missing at {project.manifest_path}: run `make prepare` (dbt parse) first"
        )
    return project


class DbtBuildConfig(dg.Config):
    """Run config of the dbt step: `full_refresh` rebuilds every incremental mart from scratch."""

    full_refresh: bool = False


def dbt_build_args(min_date: date | None, *, full_refresh: bool = False) -> list[str]:
    """The production `dbt build`: incrementals from `min_date` (None: recompute them whole), no unit tests.

    Unit tests check the SQL, not the data: the test suite runs them, production runs skip them.
    """
    dbt_vars = {"min_date": min_date.isoformat()} if min_date else {}
    args = ["build", "--vars", json.dumps(dbt_vars), "--exclude-resource-type", "unit_test"]
    return args + (["--full-refresh"] if full_refresh else [])


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=LayeredTranslator())
    def dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, data_dir: DataDirResource, config: DbtBuildConfig
    ):
        """Build staging → intermediate → marts; incrementals recompute from the earliest new day."""
        if data_dir_from_env() != data_dir.paths.root:
            # dbt's profile reads TIKTOK_DATA_DIR itself: a resource pointing elsewhere would split the warehouse.
            raise dg.Failure(
                f"dbt builds the warehouse under TIKTOK_DATA_DIR ({data_dir_from_env()}) but the data_dir "
                f"resource is {data_dir.paths.root}: set TIKTOK_DATA_DIR rather than configuring the resource"
            )
        with data_dir.exclusive():  # dbt writes the warehouse too: the whole build under the run lock
            with data_dir.warehouse() as con:
                min_date = pending_min_date(con)
            args = dbt_build_args(min_date, full_refresh=config.full_refresh)
            context.log.info(f"dbt {' '.join(args)}")
            yield from dbt.cli(args, context=context).stream()
            with data_dir.warehouse() as con:
                clear_pending_min_date(con)

    return dbt_models


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())


def dbt_executable() -> str:
    """The dbt installed with this environment, so nothing depends on an activated venv or PATH."""
    for candidate in (Path(sys.prefix) / "bin" / "dbt", Path(sys.executable).with_name("dbt")):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"
