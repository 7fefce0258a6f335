"""A received LIVE file as a document, and every problem found in it as an issue.

The same shape as the Studio reader's `Document`/`Issue` (file, row, column, rule, value), plus a
severity: a `structural` issue quarantines the whole document; a `plausibility` issue flags a row (or the
file) and keeps it. lib/live may not import lib/studio, hence this twin; a shared type belongs in lib/core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from schemas.live_contracts import PLAUSIBILITY, STRUCTURAL, Severity


@dataclass(frozen=True)
class Issue:
    document_id: str
    file: str  # what the user would recognise: the file's name (or its sidecar's)
    rule: str
    message: str
    row: int | None = None  # log: the line number; CSV/XLSX: 1-based data row (file line = row + 1)
    column: str | None = None
    value: str | None = None
    severity: Severity = STRUCTURAL


@dataclass
class LiveDocument:
    document_id: str
    file_name: str
    kind: str | None = None  # live_log, backstage, live_center_<kind>
    exported_at: datetime | None = None  # naive UTC: when the file was downloaded, when the name says so
    issues: list[Issue] = field(default_factory=list)

    def fail(self, rule: str, message: str, *, file: str | None = None, **where) -> None:
        """A structural problem: the document is quarantined."""
        self.issues.append(Issue(self.document_id, file or self.file_name, rule, message, **where))

    def flag(self, rule: str, message: str, *, file: str | None = None, **where) -> None:
        """A plausibility problem: recorded, the document still loads."""
        self.issues.append(
            Issue(self.document_id, file or self.file_name, rule, message, severity=PLAUSIBILITY, **where)
        )

    @property
    def quarantined(self) -> bool:
        return any(issue.severity == STRUCTURAL for issue in self.issues)

    @property
    def flags(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == PLAUSIBILITY]


def clip(value: object, limit: int = 120) -> str:
    """A cell or line as an issue shows it: enough to recognise, never a whole megabyte line."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
