"""Quarantine: what a user reads about a document that did not load, for every source (Studio, LIVE).

One JSON report per quarantined document under `<data>/raw/quarantine/` (rewritten, never appended; once its
quarantine ends, filed under `resolved/` there),
listing every issue with file, row, column, rule and value, and one line for `raw.documents`. An issue is
anything with `rule, message, row, column, value` (and `file`, named in the report when it is not the
document itself, e.g. a LIVE log's sidecar).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from orchestration.lib.core.paths import DataPaths


def quarantine_reason(issues: Sequence) -> str:
    """One line for raw.documents and the run summary: the first issue's rule, where, what, and how many more."""
    first = issues[0]
    where = (f" at row {first.row}" if first.row else "") + (f", column {first.column}" if first.column else "")
    value = f" (value {first.value[:40]!r})" if first.value is not None and first.row else ""
    more = f"; {len(issues) - 1} more issue(s)" if len(issues) > 1 else ""
    return f"{first.rule}{where}: {first.message}{value}{more}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
RESOLVED_FOLDER = "resolved"  # reports of files no longer quarantined, beside the current ones


def write_quarantine_report(
    paths: DataPaths,
    *,
    document_id: str,
    archive_sha256: str,
    original_name: str,
    member_name: str,
    display_name: str,
    account_handle: str | None,
    file_kind: str | None,
    issues: Sequence,
    inbox_path: str = "",
) -> None:
    """The JSON report of one quarantined document (rewritten only when its text changes), named by its bytes, its
    receipt's inbox path and its file: the same bytes quarantined at two paths (two accounts' folders) are two
    reports, not one overwritten by the other."""
    report = {
        "file": display_name,
        "inbox_path": inbox_path or None,  # where it was dropped, under the inbox: many files share a name
        "archive_sha256": archive_sha256,
        "account_handle": account_handle,
        "file_kind": file_kind,
        "what_to_do": "Fix or re-download the file and drop it into the inbox again; the archived "
        "original is kept unchanged.",
        "issues": [
            {k: v for k, v in issue.__dict__.items() if k != "document_id" and (k != "file" or v != display_name)}
            for issue in issues
        ],
    }
    target = report_path(paths, document_id, archive_sha256, original_name, member_name)
    # named before by bytes and file only (two receipts of the same bytes shared it): that report is this one now
    former = _report_path(paths, archive_sha256[:12], original_name, _member(original_name, member_name))
    if former != target:
        former.unlink(missing_ok=True)
    text = json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def report_path(paths: DataPaths, document_id: str, archive_sha256: str, original_name: str, member_name: str) -> Path:
    """Where the report of a quarantined document is: named by its bytes, its receipt's inbox path and its file."""
    receipt = document_id.split(":")[1][:8] if document_id.count(":") >= 2 else ""  # document_id_for's path tag
    return _report_path(paths, archive_sha256[:12], receipt, original_name, _member(original_name, member_name))


def report_names(paths: DataPaths, document_id: str, archive_sha256: str, original_name: str, member_name: str):
    """The names a document's report may have: `report_path`'s, and the one reports had before receipts named them
    (bytes and file only), which the next rewrite of the report replaces."""
    former = _report_path(paths, archive_sha256[:12], original_name, _member(original_name, member_name))
    return {report_path(paths, document_id, archive_sha256, original_name, member_name).name, former.name}


def file_reports(paths: DataPaths, standing: set[str]) -> int:
    """Keep `<data>/raw/quarantine/` to the reports of files still quarantined (`standing`: their report names): any
    other report (a corrected file dropped over its file, the file moved where it belongs, loaded by a replay or a
    LIVE log's corrected sidecar, a ZIP inside a ZIP whose bytes landed as a file of their own) goes to `resolved/`
    beside them, and back should its quarantine stand again; a copy left in `resolved/` of a report written again
    goes. Returns how many moved. (`os.listdir`: one listing.)"""
    resolved = paths.quarantine / RESOLVED_FOLDER
    try:
        here = {name for name in os.listdir(paths.quarantine) if name.endswith(".json")}
    except FileNotFoundError:  # nothing was ever quarantined
        return 0
    for name in sorted(here & standing):  # written again since it was filed away: the filed copy is older
        (resolved / name).unlink(missing_ok=True)
    moves = [(paths.quarantine / name, resolved / name) for name in sorted(here - standing)]
    moves += [(resolved / name, paths.quarantine / name) for name in sorted(standing - here)]
    moved = 0
    for source, target in moves:
        if not source.is_file():  # a standing document whose report was never filed away
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        moved += 1
    return moved


def _member(original_name: str, member_name: str) -> str:
    return member_name if member_name != original_name else ""


def _report_path(paths: DataPaths, *parts: str) -> Path:
    return paths.quarantine / f"{_UNSAFE.sub('_', '_'.join(parts)).rstrip('_')}.json"
