"""TikTok API pulls as Dagster assets, partitioned by day × account.

How it runs (see docs/api-sources.md):
- **The daily job** (`daily_pipeline`, 06:00 UTC, and `make run`) selects every asset, this one
  included, without a partition key. Then the asset takes today's snapshot of every account listed
  in accounts.yml (today = the calendar day in each account's time zone), records each account's
  result as a materialization of its (day, account) partition, and lets the rest of the job (dbt,
  publishing) go on even when one account failed: the `every_account_pulled` check says which
  account failed and why. Without accounts.yml it does nothing at all (no network) and passes.
- **One partition** (the `tiktok_api_repull` job, or "Materialize" in the UI): pulls that account for
  that day. Today's partition re-pulls today's snapshot. A past day of a Business account re-reads
  the daily metrics `business/get` still holds (up to 60 days back: a backfill over past days is the
  way to recover them). A past day of a snapshot endpoint fails with a clear message: it would book
  today's numbers on an old date. A single run over a range of partitions fails too (it has no key, so it
  would be taken for the daily job's run): a backfill launches one run per partition, Dagster's default.

The partition key only decides *what to request*; the dates of the rows come from the clock at
pull time (snapshots) or from TikTok's own `date` field (daily metrics), never from the key.
DuckDB allows one writer, so there is no second schedule: the daily job is the one that pulls.
Do not add `from __future__ import annotations` here: Dagster reads the `context` annotation.
"""

from datetime import date

import dagster as dg

from orchestration.defs.resources import DataDirResource
from orchestration.lib.api.landing import AccountPull, SnapshotDayError, pull_account, pull_all
from orchestration.lib.core.stop_signals import stop_arrived
from orchestration.lib.core.warehouse import API_RAW_TABLE_COLUMNS
from orchestration.lib.tiktok_api.config import AccountsConfigError, ApiConfig, load_accounts
from orchestration.lib.tiktok_api.redact import redact

API_PARTITIONS_START = "2026-01-01"
ACCOUNTS_PARTITION_NAME = "tiktok_api_accounts"
API_ACCOUNTS = dg.DynamicPartitionsDefinition(name=ACCOUNTS_PARTITION_NAME)
# end_offset=2: "today" in a time zone east of UTC can already be UTC's tomorrow.
API_DAYS = dg.DailyPartitionsDefinition(start_date=API_PARTITIONS_START, end_offset=2)
API_PARTITIONS = dg.MultiPartitionsDefinition({"day": API_DAYS, "account": API_ACCOUNTS})

PULLS = dg.AssetKey(["raw", "api_pulls"])
CHECK_NAME = "every_account_pulled"

_TABLE_DESCRIPTIONS = {
    "api_user_snapshots": "Profile totals (followers, likes, video count) per account and snapshot day, from "
    "Display user/info or the profile fields of Business business/get.",
    "api_video_snapshots": "Lifetime totals per video and snapshot day, from every page of Display "
    "video/list or "
    "Business business/video/list (with reach, watch time and completion rate for Business accounts).",
    "api_video_traffic_sources": "Business: share of a video's views per traffic source, per snapshot day.",
    "api_video_audience_countries": "Business: share of a video's viewers per country, per snapshot day.",
    "api_video_audience_types": "Business: share of a video's viewers per audience type, per snapshot day.",
    "api_business_daily": "Business: daily account metrics from business/get, under TikTok's UTC date.",
    "api_business_audience_activity": "Business: active followers per hour, per TikTok (UTC) date.",
    "api_account_audience": "Business: follower gender, country and age shares per snapshot day.",
}


def api_table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            PULLS,
            description="One row per endpoint pull of a TikTok API (loaded, unchanged, incomplete or "
            "failed), "
            "with its archive file under <data>/raw/archive/api/.",
        ),
        *(
            dg.AssetSpec(api_table_key(table), description=_TABLE_DESCRIPTIONS[table])
            for table in API_RAW_TABLE_COLUMNS
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=PULLS,
            description="Every account in accounts.yml got a complete snapshot in this run (passes when no "
            "accounts.yml exists).",
        )
    ],
    partitions_def=API_PARTITIONS,
    group_name="landing",
)
def tiktok_api_pulls(context: dg.AssetExecutionContext, data_dir: DataDirResource):
    """Pull TikTok's Display / Business APIs, archive the responses, validate and load them."""
    if (stop := stop_arrived()) is not None:  # Ctrl-C during the landing: no call to TikTok after it
        raise dg.DagsterExecutionInterruptedError(f"{stop.name} arrived before the API pulls began: none was made")
    paths = data_dir.paths
    if context.has_partition_key_range and not context.has_partition_key:
        # One run over many partitions (a single-run backfill policy) would otherwise look like the daily job's run
        # without a key, and pull every account for today instead of the partitions asked for.
        raise dg.Failure(
            "tiktok_api_pulls pulls one (day, account) partition a run: launch the backfill with one run per "
            "partition (Dagster's default), not as a single run over a range"
        )
    if context.has_partition_key:
        yield from _pull_partition(context, data_dir)
        return
    try:
        config = load_accounts(paths.root)
    except AccountsConfigError as error:
        # The Studio part of the daily job must not stop because of a typo in accounts.yml.
        context.log.error(redact(str(error)))
        yield from _results([], note=redact(str(error)), passed=False)
        return
    if config is None:
        yield from _results([], note="no accounts.yml: nothing was pulled (the APIs are optional)", passed=True)
        return
    _register_accounts(context, config)
    with data_dir.warehouse() as con:
        results = pull_all(paths, con, config)  # each pull records the raw tables it changed (lib/api/load.py)
    for result in results:
        _log(context, result)
        if result.published:
            _mark_partition(context, result)
    yield from _results(results, note=None, passed=all(r.published for r in results))


def _pull_partition(context: dg.AssetExecutionContext, data_dir: DataDirResource):
    paths = data_dir.paths
    keys = context.partition_key.keys_by_dimension
    day, handle = date.fromisoformat(keys["day"]), keys["account"]
    try:
        config = load_accounts(paths.root)
        if config is None:
            raise dg.Failure(description="no accounts.yml: there is no account to pull (see docs/api-sources.md)")
        account = config.account(handle)
    except AccountsConfigError as error:
        raise dg.Failure(description=redact(str(error))) from None
    try:
        with data_dir.warehouse() as con:
            result = pull_account(paths, con, config, account, requested_day=day)
    except SnapshotDayError as error:
        raise dg.Failure(description=str(error)) from None
    _log(context, result)
    if not result.published:
        raise dg.Failure(
            description=f"@{handle} {result.status}: {redact(result.reason)}. Nothing of this pull was "
            "published; "
            "the raw responses are archived.",
            metadata={"pull": dg.MetadataValue.json(result.summary())},
        )
    yield from _results([result], note=None, passed=True)


def _results(results: list[AccountPull], *, note: str | None, passed: bool):
    table = _status_table(results, note)
    yield dg.MaterializeResult(
        asset_key=PULLS,
        metadata={
            "accounts_pulled": len(results),
            "accounts_published": sum(r.published for r in results),
            "accounts_failed": sum(not r.published for r in results),
            "status": dg.MetadataValue.md(table),
            "pulls": dg.MetadataValue.json([r.summary() for r in results]),
        },
    )
    for name in API_RAW_TABLE_COLUMNS:
        yield dg.MaterializeResult(
            asset_key=api_table_key(name),
            metadata={
                "rows_loaded": sum(r.rows_by_table.get(name, 0) for r in results if r.status == "complete"),
                "accounts": dg.MetadataValue.json(
                    {r.handle: r.rows_by_table.get(name, 0) for r in results if r.status == "complete"}
                ),
            },
        )
    failed = [r for r in results if not r.published]
    yield dg.AssetCheckResult(
        asset_key=PULLS,
        check_name=CHECK_NAME,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=note
        or (
            "every account was pulled"
            if not failed
            else f"{len(failed)} account(s) not pulled: " + ", ".join(f"@{r.handle}" for r in failed)
        ),
        metadata={
            "failed": dg.MetadataValue.json({r.handle: redact(r.reason) for r in failed}),
            "status": dg.MetadataValue.md(table),
        },
    )


def _status_table(results: list[AccountPull], note: str | None) -> str:
    if not results:
        return note or "No account was pulled."
    lines = ["| account | api | day | status | rows | reason |", "|---|---|---|---|---|---|"]
    for r in results:
        day = r.plan.snapshot_date or r.plan.metrics_start if r.plan else ""
        reason = (redact(r.reason) if r.reason else "").replace("|", "\\|")[:300]
        lines.append(f"| @{r.handle} | {r.api} | {day} | {r.status} | {sum(r.rows_by_table.values())} | {reason} |")
    return "\n".join(lines)


def _log(context: dg.AssetExecutionContext, result: AccountPull) -> None:
    summary = result.summary()
    message = (
        f"@{result.handle} ({result.api}) {result.status}: rows {summary['rows']}, "
        f"{summary['http_requests']} HTTP requests"
    )
    if result.published:
        context.log.info(redact(message))
    else:
        context.log.error(redact(f"{message}; {result.reason}"))


def _register_accounts(context: dg.AssetExecutionContext, config: ApiConfig) -> None:
    """Make every configured account a partition, so the UI can show and re-pull it."""
    new = _unregistered_handles(context.instance, config)
    if new:
        context.instance.add_dynamic_partitions(ACCOUNTS_PARTITION_NAME, new)


def _unregistered_handles(instance: dg.DagsterInstance, config: ApiConfig) -> list[str]:
    known = set(instance.get_dynamic_partitions(ACCOUNTS_PARTITION_NAME))
    return [handle for handle in config.handles if handle not in known]


def _mark_partition(context: dg.AssetExecutionContext, result: AccountPull) -> None:
    """Record an unpartitioned daily pull as a materialization of its (local day, account) partition."""
    partition = dg.MultiPartitionKey({"day": result.plan.local_date.isoformat(), "account": result.handle})
    metadata = {"pull": dg.MetadataValue.json(result.summary())}
    keys = [PULLS, *(api_table_key(t) for t, rows in result.rows_by_table.items() if rows)]
    for key in keys:
        context.log_event(dg.AssetMaterialization(asset_key=key, partition=partition, metadata=metadata))


@dg.sensor(minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING)
def api_accounts_sensor(context: dg.SensorEvaluationContext, data_dir: DataDirResource):
    """Keep the account partitions in step with accounts.yml (reads one file; no network, no runs)."""
    try:
        config = load_accounts(data_dir.paths.root)
    except AccountsConfigError as error:
        return dg.SkipReason(redact(str(error)))
    if config is None:
        return dg.SkipReason("no accounts.yml: the TikTok APIs are not used")
    new = _unregistered_handles(context.instance, config)
    if not new:
        return dg.SkipReason("every account in accounts.yml is a partition already")
    return dg.SensorResult(dynamic_partitions_requests=[API_ACCOUNTS.build_add_request(new)])


# Re-pull one (day, account) and rebuild what depends on it. A backfill over many past days of a
# Business account is better launched on the asset alone (the marts then rebuild in the next daily run).
# Its dbt step is a subset of the dbt assets (defs/dbt.py): it builds the models downstream of the API tables from
# the earliest pending day, their generic tests batched as in the daily job, leaves what it built pending for the
# next daily run (which builds it again), and is refused while a full refresh of the whole project is due.
api_repull_job = dg.define_asset_job(
    "tiktok_api_repull",
    # the published marts are one multi-asset that cannot be subset: select the whole group
    selection=dg.AssetSelection.assets(tiktok_api_pulls).downstream() | dg.AssetSelection.groups("published"),
    executor_def=dg.in_process_executor,
    description="Pull one account for one day (today: a fresh snapshot; a past day of a Business account: "
    "its daily metrics), then rebuild the marts.",
)
