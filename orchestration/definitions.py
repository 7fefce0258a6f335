"""The one entry point for Dagster: `dagster dev -m orchestration.definitions`.

Nothing happens at import: the definitions are built when Dagster (or a test) calls `defs()`.
Cross-cutting policy (the in-process executor, the resources) is applied here, once.
"""

from __future__ import annotations

import json

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    from orchestration.defs import alerts, automation, console, dbt, publish, report, studio, tiktok_api
    from orchestration.defs.resources import data_dir_resource

    project = dbt.dbt_project()
    models = mart_models(project.manifest_path)
    published_marts, published_marts_quality = publish.build_publish_assets(models)
    return dg.Definitions(
        assets=[
            studio.inbox,
            studio.studio_exports,
            tiktok_api.tiktok_api_pulls,
            dbt.build_dbt_assets(project),
            published_marts,
            report.build_report_asset(models),
            alerts.build_alerts_asset([publish.published_key(m) for m in models]),
        ],
        asset_checks=[published_marts_quality],
        jobs=[automation.daily_pipeline, tiktok_api.api_repull_job],
        schedules=[automation.daily_schedule],
        sensors=[automation.inbox_sensor, tiktok_api.api_accounts_sensor, alerts.alert_on_run_failure],
        resources={"data_dir": data_dir_resource()},
        executor=dg.in_process_executor,
        loggers={"console": console.console_logger},
    )


def mart_models(manifest_path) -> list[str]:
    """Models in dbt's marts/ folder, in name order: these are what BI tools get."""
    manifest = json.loads(manifest_path.read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1:2] == ["marts"]
    )
