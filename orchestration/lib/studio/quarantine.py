"""Quarantine: what a user reads about a document that did not load.

One JSON report per quarantined document under `<data>/raw/quarantine/` (rewritten, never appended),
listing every issue with file, row, column, rule and value, and one line for `raw.documents`.
"""

from __future__ import annotations

import json
import re

from orchestration.lib.core.paths import DataPaths
from orchestration.lib.studio.reader import Document, Issue


def quarantine_reason(issues: list[Issue]) -> str:
    """One line for raw.documents and the run summary: the first issue's rule, where, what, and how many more."""
    first = issues[0]
    where = (f" at row {first.row}" if first.row else "") + (f", column {first.column}" if first.column else "")
    value = f" (value {first.value[:40]!r})" if first.value is not None and first.row else ""
    more = f"; {len(issues) - 1} more issue(s)" if len(issues) > 1 else ""
    return f"{first.rule}{where}: {first.message}{value}{more}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def write_quarantine_reports(paths: DataPaths, documents: list[Document]) -> None:
    """One JSON report per quarantined document under raw/quarantine/ (rewritten, never appended)."""
    for doc in documents:
        if not doc.issues:
            continue
        member = doc.member_name if doc.member_name != doc.original_name else ""
        name = _UNSAFE.sub("_", f"{doc.archive_sha256[:12]}_{doc.original_name}_{member}")
        report = {
            "file": doc.display_name,
            "archive_sha256": doc.archive_sha256,
            "account_handle": doc.account_handle,
            "file_kind": doc.kind,
            "what_to_do": "Fix or re-download the file and drop it into the inbox again; the archived "
            "original is kept unchanged.",
            "issues": [
                {k: v for k, v in issue.__dict__.items() if k not in ("document_id", "file")} for issue in doc.issues
            ],
        }
        target = paths.quarantine / f"{name.rstrip('_')}.json"
        text = json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
