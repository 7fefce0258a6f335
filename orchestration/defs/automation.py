"""The daily job, its 06:00 UTC schedule and the inbox sensor."""

import hashlib
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import DataDirResource
from orchestration.lib.core.inbox import walk_inbox

# Every asset, in one run: landing → dbt → publish → checks. One process, because DuckDB allows
# one writer and the steps run one after another anyway.
daily_pipeline = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Land the inbox, validate, build the dbt marts, publish them and check them.",
)

daily_schedule = dg.ScheduleDefinition(
    name="daily_0600_utc",
    job=daily_pipeline,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


def inbox_fingerprint(inbox: Path) -> str:
    """Changes whenever a received file appears, disappears or changes (lstat only, no reads).

    The same walk as landing: litter, links and special files never start a run."""
    digest = hashlib.sha256()
    for file in walk_inbox(inbox).files:
        digest.update(f"{file.relative}\0{file.size}\0{file.mtime_ns}\n".encode())
    return digest.hexdigest()


@dg.sensor(job=daily_pipeline, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, data_dir: DataDirResource):
    """Start the pipeline when files are dropped into <data>/raw/inbox/."""
    fingerprint = inbox_fingerprint(data_dir.paths.inbox)
    if fingerprint == context.cursor:
        return dg.SkipReason("no new files in the inbox")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
