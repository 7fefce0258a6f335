"""A batch's documents as their raw.documents rows, built column by column in the process that read them: one
frame crosses from a landing worker, not ~7 Document objects per file (unpickling those cost the landing
process 0.15 s per 5,000 files). `landed_at` is given when the rows are loaded (`landing._load_batch`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.lib.core.quarantine import quarantine_reason
from orchestration.lib.studio.reader import Document
from schemas.studio_files import STUDIO_FILE_KINDS

# File kinds without a per-row date: one snapshot of the audience on the export date.
SNAPSHOT_KINDS = frozenset(k.kind for k in STUDIO_FILE_KINDS.values() if not k.dated and "metric_date" not in k.columns)


def document_rows(documents: list[Document], valid: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """raw.documents rows of a batch but `landed_at` (given when they are loaded), built column by column (no
    Timestamp made per document)."""
    if not documents:
        return pd.DataFrame()
    ids = pd.Index([d.document_id for d in documents])
    spans = [f.groupby("document_id")["metric_date"].agg(["min", "max"]) for f in valid.values() if "metric_date" in f]
    spans = pd.concat(spans) if spans else pd.DataFrame({"min": [], "max": []}, dtype="datetime64[s]")
    # Audience snapshots (gender, territory) have no date column: their day is the export date, and
    # it must reach min_date like any other, or an incremental build never recomputes them.
    snapshot = _days([d.anchor.export_date if d.kind in SNAPSHOT_KINDS else None for d in documents])
    first, last = (spans[end].reindex(ids).to_numpy() for end in ("min", "max"))
    return pd.DataFrame(
        {
            "document_id": ids.to_numpy(),
            "archive_sha256": [d.archive_sha256 for d in documents],
            "member_name": [d.member_name for d in documents],
            "original_name": [d.original_name for d in documents],
            "account_handle": [d.account_handle for d in documents],
            "file_kind": [d.kind for d in documents],
            "export_date": _days([d.anchor.export_date for d in documents]),
            "export_date_source": [d.anchor.source for d in documents],
            "exported_at": pd.to_datetime(pd.Series([d.anchor.exported_at for d in documents], dtype="object")),
            "status": ["quarantined" if d.issues else "loaded" for d in documents],
            "row_count": [d.row_count for d in documents],
            "quarantine_reason": [quarantine_reason(d.issues) if d.issues else None for d in documents],
            "first_metric_date": _or_none(np.where(pd.isna(first), snapshot, first)),
            "last_metric_date": _or_none(np.where(pd.isna(last), snapshot, last)),
            "inner_zip_sha256": [d.inner_zip_sha256 for d in documents],  # null but for a ZIP inside a ZIP
        }
    )


def _days(days: list) -> np.ndarray:
    return pd.to_datetime(pd.Series(days, dtype="object")).to_numpy().astype("datetime64[s]")


def _or_none(days: np.ndarray):
    """A column of no day at all stays a column of None (what a frame of such rows always held)."""
    return days if not pd.isna(days).all() else [None] * len(days)
