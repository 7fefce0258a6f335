"""What the terminal shows of a run: the asset checks a build did not run told in one line (`defs/console.py`).

A daily build runs only the dbt tests reading what it rebuilt (`defs/dbt.py`); the other ~430 asset checks of the
dbt step have no result that run. Dagster then says so once per check, ~240 warnings "Blocking asset check ...
emitted no result ...; downstream step ... will proceed without gating on it", and once more in a single line
naming every one of them (~40 KB): a rerun with nothing new printed ~100 KB. These filters make each one line
with a count; the event log (the UI) keeps every message as Dagster wrote it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

_UNYIELDED = re.compile(r"did not yield or return expected outputs \{(?P<names>.*)\}\.?", re.DOTALL)
_UNGATED = re.compile(r"^Blocking asset check .* emitted no result in step '(?P<step>[^']+)'")
_OBSERVED_TEST = re.compile(r"Logging an `AssetObservation` instead of an `AssetCheckResult` for dbt test `")
# where Dagster's executor warns of each blocking check without a result
_UNGATED_LOGGER = "dagster._core.execution.plan.active"


class UnyieldedOutputsInOneLine(logging.Filter):
    """Dagster's "did not yield or return expected outputs {...}" as a count, not every name."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        match = _UNYIELDED.search(message)
        if match:
            count = len(re.findall(r"'[^']*'", match["names"]))
            record.msg = message[: match.start()] + (
                f"did not yield {count} of its expected outputs (for a dbt build: the checks of the models it did "
                "not rebuild); the Dagster UI lists them"
            )
            record.args = ()
        return True


class ObservedTestsQuiet(logging.Filter):
    """Dagster's warning for each dbt test it records as an observation, not a check (the tests on dbt sources, the
    raw API tables: no asset of the job), told at DEBUG: it says nothing is wrong, yet printed two WARNING lines on
    every build that ran such a test (a newcomer's review). The event log keeps it; a failing test fails the build."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and _OBSERVED_TEST.search(record.getMessage()):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


class _UngatedChecksCounted(logging.Filter):
    """Drops Dagster's warning per blocking check without a result, counting them by step."""

    def __init__(self) -> None:
        super().__init__()
        self.by_step: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        match = _UNGATED.match(record.getMessage())
        if match is None:
            return True
        self.by_step[match["step"]] = self.by_step.get(match["step"], 0) + 1
        return False


@contextmanager
def ungated_checks_counted() -> Iterator[dict[str, int]]:
    """While a run executes, Dagster's warnings for blocking checks without a result are counted (by the step that
    did not run them) instead of printed; the caller says how many there were."""
    counted = _UngatedChecksCounted()
    logger = logging.getLogger(_UNGATED_LOGGER)
    logger.addFilter(counted)
    try:
        yield counted.by_step
    finally:
        logger.removeFilter(counted)
