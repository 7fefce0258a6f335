"""The terminal's view of a run: Dagster's colored console logger, with the outputs a build did not yield (the
checks of the models it did not rebuild) counted in one line instead of named (`lib/core/console_filters.py`).
"""

from __future__ import annotations

import logging

import dagster as dg

from orchestration.lib.core.console_filters import ObservedTestsQuiet, UnyieldedOutputsInOneLine


@dg.logger(
    config_schema=dg.colored_console_logger.config_schema.as_field(),
    description="Dagster's colored console logger; the asset checks a build did not run are counted, not listed.",
)
def console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = dg.colored_console_logger.logger_fn(init_context)
    logger.addFilter(UnyieldedOutputsInOneLine())
    logger.addFilter(ObservedTestsQuiet())  # at DEBUG: below the console's INFO
    return logger
