"""The daily job, its 06:00 UTC schedule and the inbox sensor."""

import hashlib
import json
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
# The inbox paths the quarantine reports name, by report (path, mtime_ns, size): each report is read once.
_reported: dict[tuple[str, int, int], str | None] = {}


def inbox_fingerprint(
    inbox: Path, folders: dict[str, FolderCache] | None = None, quarantine: Path | None = None
) -> str:
    """Changes whenever a received file appears, disappears or changes (lstat only, no reads).

    The same walk as landing: litter, links and special files never start a run. With `folders` (kept between
    calls), a folder unchanged since a walk that found it settled is not listed again, as in the landing's scan: a
    file rewritten in place there changes the fingerprint only once that folder changes (the landing's next full
    scan lands it whatever the sensor says). As the landing does, a folder holding a file a report in `quarantine`
    names is listed every time, so that a corrected file copied over a quarantined one starts a run."""
    key = os.fspath(inbox)
    walk = walk_inbox(inbox, None if folders is None else folders.get(key))
    if folders is not None:
        named = _quarantined_inbox_paths(quarantine) if quarantine is not None else set()
        if named is None:  # a report that names no inbox path (written before reports did): keep no folder
            folders[key] = {}
        else:
            unsettled = {file.folder for file in walk.files if file.relative in named}
            folders[key] = {k: ls for k, ls in walk.folders.items() if ls.settled and k not in unsettled}
    digest = hashlib.sha256()
    for file in walk.files:
        digest.update(f"{file.relative}\0{file.size}\0{file.mtime_ns}\n".encode())
    return digest.hexdigest()


def _quarantined_inbox_paths(quarantine: Path) -> set[str] | None:
    """The inbox paths of the quarantine reports, None when a report names none (reports whose quarantine ended are
    filed under `resolved/` by the landing, not read here; one not filed yet still counts: a folder listed once too
    often costs a listing, never a missed run). The sensor never opens the warehouse, which a run holds."""
    seen: dict[tuple[str, int, int], str | None] = {}
    try:
        entries = list(os.scandir(quarantine))
    except FileNotFoundError:  # nothing quarantined yet
        return set()
    except OSError:  # unreadable: which folders hold a quarantined file is unknown
        return None
    for entry in entries:
        if not entry.name.endswith(".json") or not entry.is_file(follow_symlinks=False):
            continue
        try:
            status = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        report = (entry.path, status.st_mtime_ns, status.st_size)
        if report not in _reported:
            try:
                _reported[report] = json.loads(Path(entry.path).read_text(encoding="utf-8")).get("inbox_path")
            except (OSError, ValueError, AttributeError):
                _reported[report] = None  # unreadable: no folder is kept until the landing rewrites it
        seen[report] = _reported[report]
    _reported.clear()  # only the reports there now: a report rewritten or removed is forgotten
    _reported.update(seen)
    if not all(isinstance(path, str) and path for path in seen.values()):
        return None
    return set(seen.values())


@dg.sensor(job=daily_pipeline, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, data_dir: DataDirResource):
    """Start the pipeline when files are dropped into <data>/raw/inbox/."""
    paths = data_dir.paths
    fingerprint = inbox_fingerprint(paths.inbox, _sensor_folders, paths.quarantine)
    if fingerprint == context.cursor:
        return dg.SkipReason("no new files in the inbox")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
