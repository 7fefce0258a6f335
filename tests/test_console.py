"""What the terminal shows of a run (lib/core/console_filters.py): the checks a build did not run, counted."""

import logging

from orchestration.lib.core.console_filters import (
    ObservedTestsQuiet,
    UnyieldedOutputsInOneLine,
    ungated_checks_counted,
)

UNYIELDED = (
    "daily_pipeline - 1234 - dbt_models - op 'dbt_models' did not yield or return expected outputs "
    "{'marts__a_not_null_a_x', 'marts__b_unique_b_y', 'staging__c_accepted_range_c_z__0'}."
)


def _record(message: str, *args) -> logging.LogRecord:
    return logging.LogRecord("dagster", logging.INFO, __file__, 1, message, args, None)


def test_the_names_of_unyielded_outputs_become_a_count():
    record = _record(UNYIELDED)
    assert UnyieldedOutputsInOneLine().filter(record)
    assert record.getMessage() == (
        "daily_pipeline - 1234 - dbt_models - op 'dbt_models' did not yield 3 of its expected outputs (for a dbt "
        "build: the checks of the models it did not rebuild); the Dagster UI lists them"
    )
    other = _record("dbt: no raw table changed since the %s build; nothing to build", "last")
    assert UnyieldedOutputsInOneLine().filter(other)
    assert other.getMessage() == "dbt: no raw table changed since the last build; nothing to build"


def test_warnings_of_ungated_checks_are_counted_by_step_while_a_run_executes(caplog):
    logger = logging.getLogger("dagster._core.execution.plan.active")
    with caplog.at_level(logging.WARNING), ungated_checks_counted() as counted:
        for check in ("a:x", "a:y", "b:z"):
            logger.warning(
                f"Blocking asset check {check!r} emitted no result in step 'dbt_models'; downstream step "
                "'published_marts' will proceed without gating on it."
            )
        logger.warning("Blocking asset check 'c:w' emitted no result in step 'other'; downstream step 's' will ...")
        logger.warning("something else")
    assert counted == {"dbt_models": 3, "other": 1}
    assert [r.getMessage() for r in caplog.records] == ["something else"]
    logger.warning("Blocking asset check 'a:x' emitted no result in step 'dbt_models'; after the run")
    assert len(caplog.records) == 2 and counted == {"dbt_models": 3, "other": 1}  # the filter is gone


def test_a_dbt_test_recorded_as_an_observation_is_no_warning_on_the_console():
    """Two WARNING lines on every build that ran the tests on the raw API tables (dbt sources), saying nothing was
    wrong (review): told at DEBUG, below the console's INFO; any other warning stays one."""
    observed = logging.LogRecord(
        "dagster",
        logging.WARNING,
        __file__,
        1,
        "daily_pipeline - 1234 - dbt_models - Logging an `AssetObservation` instead of an `AssetCheckResult` for dbt "
        "test `source_shares_sum_to_at_most_tiktok_api_api_account_audience_share__document_id__dimension`.\n\nThis "
        "test was not included in Dagster's asset check selection, and was likely executed due to dbt indirect "
        "selection.",
        (),
        None,
    )
    other = logging.LogRecord("dagster", logging.WARNING, __file__, 1, "dbt: a test warned", (), None)
    assert ObservedTestsQuiet().filter(observed) and ObservedTestsQuiet().filter(other)
    assert (observed.levelno, observed.levelname) == (logging.DEBUG, "DEBUG")
    assert (other.levelno, other.levelname) == (logging.WARNING, "WARNING")
