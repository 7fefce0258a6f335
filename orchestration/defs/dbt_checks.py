"""The dbt checks of marts a daily build leaves untouched (defs/dbt.py).

A planned build yields every mart it does not rebuild as unchanged, so that the published marts downstream run;
Dagster then shows that materialization's checks as skipped. A test that failed on such a mart (a WARN test on a
row TikTok's own arithmetic got wrong) would vanish from the UI while the row is still there. Its rows have not
changed and the test reads nothing rebuilt (else the build runs it), so its last result still holds: the failures
are carried over, saying from which run. Passing checks are not repeated (hundreds of events a day for nothing).
"""

from collections.abc import Iterator

import dagster as dg
from dagster_dbt.asset_utils import DAGSTER_DBT_UNIQUE_ID_METADATA_KEY


def carried_over_failures(
    context: dg.AssetExecutionContext, untouched: set[dg.AssetKey], tested: set[str]
) -> Iterator[dg.AssetCheckResult]:
    """The last failed result of each selected check on an `untouched` mart whose test this build does not run
    (`tested`: the unique ids of the tests it runs)."""
    spec_of = context.assets_def.get_spec_for_check_key
    keys = [
        key
        for key in context.selected_asset_check_keys
        if key.asset_key in untouched
        and (spec_of(key).metadata or {}).get(DAGSTER_DBT_UNIQUE_ID_METADATA_KEY) not in tested
    ]
    if not keys:
        return
    for key, summary in context.instance.event_log_storage.get_asset_check_summary_records(keys).items():
        record = summary.last_completed_check_execution_record
        evaluation = record.evaluation if record is not None else None
        if evaluation is None or evaluation.passed:
            continue
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=False,
            severity=evaluation.severity,
            metadata={
                **evaluation.metadata,
                # the run the test ran in, not the last run that carried it (a chain of hops)
                "carried_over_from_run": evaluation.metadata.get("carried_over_from_run") or record.run_id,
                "why": "its mart was not rebuilt: the rows this check failed on are still there",
            },
        )
