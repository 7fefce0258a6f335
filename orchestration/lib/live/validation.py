"""The LIVE contracts applied to a batch: each failure becomes an issue of its document.

A structural failure quarantines the document (all its rows stay out); a plausibility failure flags the
row and keeps it. One issue per (row, rule), at most `MAX_ISSUES_PER_RULE` per document and rule, then one
issue counting the rest, so a 100,000-line log with one systematic oddity yields a readable report.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pandera.pandas as pa

from orchestration.lib.live.documents import PLAUSIBILITY, LiveDocument
from schemas.live_contracts import FOCUS, LIVE_CONTRACTS, describe_failure, rule_of

MAX_ISSUES_PER_RULE = 20


def apply_contract(table: str, frame: pd.DataFrame, documents: dict[str, LiveDocument]) -> pd.DataFrame:
    """Validate one raw LIVE table's batch; return the rows of documents that stay loadable."""
    frame = frame.reset_index(drop=True)
    try:
        LIVE_CONTRACTS[table].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        _record_failures(table, frame, errors.failure_cases, documents)
    quarantined = {d for d in frame["document_id"].unique() if documents[d].quarantined}
    return frame[~frame["document_id"].isin(quarantined)].reset_index(drop=True)


def _record_failures(
    table: str, frame: pd.DataFrame, failures: pd.DataFrame, documents: dict[str, LiveDocument]
) -> None:
    whole_table = failures[failures["index"].isna()]
    for check, group in whole_table.groupby("check", sort=True):
        # A column missing or of the wrong type: a reader bug, and every document of the batch is affected.
        for document_id in frame["document_id"].unique():
            documents[document_id].fail(
                str(check), describe_failure(table, str(check)), column=_text(group["column"].iloc[0])
            )
    counts: Counter = Counter()
    for (index, check), group in failures[failures["index"].notna()].groupby(["index", "check"], sort=True):
        check = str(check)
        record = frame.loc[int(index)]
        # A frame-wide rule reports every non-null cell of the row: name the column it is about instead.
        focus = FOCUS.get(check)
        column = focus or _text(group["column"].iloc[0])
        value = _text(record[focus]) if focus else _text(group["failure_case"].iloc[0])
        doc = documents[record["document_id"]]
        counts[(doc.document_id, check)] += 1
        if counts[(doc.document_id, check)] > MAX_ISSUES_PER_RULE:
            continue
        report = doc.flag if rule_of(check).severity == PLAUSIBILITY else doc.fail
        report(
            check,
            describe_failure(table, check),
            row=int(record["source_row"]),
            column=column,
            value=value,
        )
    for (document_id, check), count in sorted(counts.items()):
        if count > MAX_ISSUES_PER_RULE:
            report = (
                documents[document_id].flag if rule_of(check).severity == PLAUSIBILITY else documents[document_id].fail
            )
            report(check, f"… and {count - MAX_ISSUES_PER_RULE} more rows failing {check}")


def _text(value) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
