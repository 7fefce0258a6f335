"""What every landed raw table reports to Dagster after a landing, whatever its source (Studio, LIVE)."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pandas as pd


def raw_table_results(
    key: dg.AssetKey, rows_loaded: int, documents: pd.DataFrame, flags: pd.DataFrame, flags_in_total: int, flags_md: str
) -> Iterator:
    """The table's materialization (rows and files of this run) and its `flagged_rows` check (WARN: flagged rows
    landed all the same, worth a look). `documents` are the raw.documents rows of the files feeding this table."""
    yield dg.MaterializeResult(
        asset_key=key,
        metadata={
            "rows_loaded": rows_loaded,
            "rows_flagged": len(flags),
            "files_loaded": int((documents["status"] == "loaded").sum()) if len(documents) else 0,
            "files_quarantined": int((documents["status"] == "quarantined").sum()) if len(documents) else 0,
        },
    )
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="flagged_rows",
        passed=flags.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "flags_this_run": len(flags),
            "flags_in_total": int(flags_in_total),
            "flags": dg.MetadataValue.md(flags_md),
        },
    )
