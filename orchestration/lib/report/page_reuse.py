"""Account pages whose inputs did not change are taken from the previous report, not drawn again.

A page is a function of what it shows (its figures' JSON text and the rest of its `pages.account_pages` dict),
the newest data day, which marts are published, and this package's code: `page_key` hashes exactly these.
`<report>/.pages` records, per page file, the key it was drawn from and the sha256 of its bytes. A page whose
key is unchanged, and whose previous file still has the recorded bytes, is hard-linked into the new report
(files of a report are never written again once it is swapped in); anything else (a new key, a file edited or
gone, another build swapping the folder away meanwhile) is drawn as usual.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

from orchestration.lib.report.pages import SERIES

PAGES_FILE = ".pages"  # {page file name: [page_key, sha256 of the page's bytes]}


def page_key(code: str, newest: date | None, present: set[str], page: dict, figures: dict[str, str]) -> str:
    """What the page is drawn from: its figures' JSON text (render.account_figures) and its other values (the
    sections drawn as figures only, pages.SERIES, are in their figures). repr of plain values (str, int, float,
    Decimal, date, datetime, bool, None) is exact: the same key means the same values, so the same page."""
    shown = {name: value for name, value in page.items() if name not in SERIES}
    digest = hashlib.sha256(repr((code, newest, sorted(present), shown, list(figures))).encode())
    for text in figures.values():  # each text after its length: where one ends is never in doubt
        data = text.encode()
        digest.update(b"\n%d\n" % len(data) + data)
    return digest.hexdigest()


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PreviousPages:
    """The pages of the report in `report_dir` (may not exist) and what each was drawn from."""

    def __init__(self, report_dir: Path | None) -> None:
        self.accounts = Path(report_dir) / "accounts" if report_dir else None
        self.recorded: dict[str, list[str]] = {}
        if report_dir:
            try:
                self.recorded = json.loads((Path(report_dir) / PAGES_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.recorded = {}  # no previous report, or one from before this file: draw every page

    def link(self, name: str, key: str, target: Path) -> str | None:
        """Hard-link the previous `name` to `target` if it was drawn from `key` and is intact; its digest, or None."""
        recorded = self.recorded.get(name)
        if self.accounts is None or not recorded or recorded[0] != key:
            return None
        try:
            os.link(self.accounts / name, target)
            # checked after linking: the linked file is ours, whatever swaps the previous folder meanwhile
            if content_digest(target.read_bytes()) == recorded[1]:
                return recorded[1]
            target.unlink()
        except OSError:
            target.unlink(missing_ok=True)
        return None


def write_manifest(report_dir: Path, manifest: dict[str, list[str]]) -> None:
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    (Path(report_dir) / PAGES_FILE).write_text(text, encoding="utf-8")
