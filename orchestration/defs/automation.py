"""The daily job, its 06:00 UTC schedule and the inbox sensor."""

import hashlib
import os
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import DataDirResource
from orchestration.lib.core.inbox import FolderCache, walk_inbox

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


# The sensor's folder cache, per inbox: the settled folders of its last walk. Dagster's code server evaluates the
# sensor every minute in one long-lived process (a new process starts with none); walking an agency's inbox of
# ~110,000 files afresh each minute cost a second or two of CPU, now only the folders changed since are listed.
_sensor_folders: dict[str, FolderCache] = {}


def inbox_fingerprint(inbox: Path, folders: dict[str, FolderCache] | None = None) -> str:
    """Changes whenever a received file appears, disappears or changes (lstat only, no reads).

    The same walk as landing: litter, links and special files never start a run. With `folders` (kept between
    calls), a folder unchanged since a walk that found it settled is not listed again, as in the landing's scan:
    a file rewritten in place there changes the fingerprint only once that folder changes (the landing's next full
    scan lands it whatever the sensor says)."""
    key = os.fspath(inbox)
    walk = walk_inbox(inbox, None if folders is None else folders.get(key))
    if folders is not None:
        folders[key] = {name: listing for name, listing in walk.folders.items() if listing.settled}
    digest = hashlib.sha256()
    for file in walk.files:
        digest.update(f"{file.relative}\0{file.size}\0{file.mtime_ns}\n".encode())
    return digest.hexdigest()


@dg.sensor(job=daily_pipeline, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, data_dir: DataDirResource):
    """Start the pipeline when files are dropped into <data>/raw/inbox/."""
    fingerprint = inbox_fingerprint(data_dir.paths.inbox, _sensor_folders)
    if fingerprint == context.cursor:
        return dg.SkipReason("no new files in the inbox")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
