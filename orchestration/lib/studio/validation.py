"""The pandera contracts applied to a batch: contract failures become issues of their documents."""

from __future__ import annotations

import pandas as pd

from orchestration.lib.studio.reader import Document
from schemas.studio_contracts import CHECK_FOCUS, describe_failure


def record_contract_failures(
    kind: str, frame: pd.DataFrame, failures: pd.DataFrame, by_id: dict[str, Document]
) -> None:
    """Attach contract failures to their documents: one issue per (row, rule)."""
    if failures.empty:
        return
    failures = failures[failures["index"].notna()]
    for (index, check), group in failures.groupby(["index", "check"], sort=True):
        focus = CHECK_FOCUS.get(str(check))
        hit = group[group["column"] == focus] if focus else group
        row = (hit if len(hit) else group).iloc[0]
        record = frame.loc[int(index)]
        by_id[record["document_id"]].fail(
            str(check),
            describe_failure(str(check), kind),
            row=int(record["source_row"]),
            column=None if pd.isna(row["column"]) else str(row["column"]),
            value=None if pd.isna(row["failure_case"]) else str(row["failure_case"]),
        )
