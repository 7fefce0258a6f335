"""checks.html (lib/marts/quality_page.py): each check's details as JSON text, and a failed recency check names
each failing account first, with its lag, however long the rest of its details is."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

from orchestration.lib.marts.quality import MartCheckResult
from orchestration.lib.marts.quality_page import write_summary_page
from tests.test_mart_quality import D2, OVERVIEW, _marts, _result, _run


def _details_cells(page: str) -> dict[tuple[str, str], str]:
    """(mart, check) -> the text of its details cell, as a browser shows it."""
    rows = re.findall(r"<tr class='\w+'><td>(.*?)</td><td>(.*?)</td>.*?<code>(.*?)</code></td></tr>", page)
    return {(html.unescape(mart), html.unescape(check)): html.unescape(code) for mart, check, code in rows}


def test_checks_html_names_the_account_that_lags(tmp_path: Path) -> None:
    # bob's newest day is 03-02, his newest export now 03-06: 4 days, one more than allowed
    marts = _marts()
    marts["dim_accounts"].loc[1, "last_export_date"] = dt.date(2024, 3, 6)

    results = _run(tmp_path, marts)

    failing = ["bob (4 days behind its export of 2024-03-06)"]
    assert _result(results, OVERVIEW, "recency").details["accounts_failing"] == failing
    page = (tmp_path / "data" / "marts" / "quality" / "checks.html").read_text(encoding="utf-8")
    cell = _details_cells(page)[OVERVIEW, "recency"]
    assert cell.startswith('{"accounts": 2, "accounts_failing": ["bob (4 days behind its export of 2024-03-06)"], ')


def test_accounts_newer_than_their_export_or_without_one_are_named_by_handle(tmp_path: Path) -> None:
    # alice's newest day 03-03 is a day after her newest export (03-02); bob has no loaded export date
    marts = _marts()
    marts["dim_accounts"].loc[0, "last_export_date"] = D2
    marts["dim_accounts"].loc[1, "last_export_date"] = None

    results = _run(tmp_path, marts)

    assert _result(results, OVERVIEW, "recency").details["accounts_failing"] == [
        "alice (1 day newer than its export of 2024-03-02)",
        "bob (no loaded export date)",
    ]


def test_details_are_cut_before_they_are_escaped(tmp_path: Path) -> None:
    # every character of the value is escaped: a cut after escaping showed half as much, and could end
    # inside an entity ("&am")
    details = {"text": "&" * 1000}
    result = MartCheckResult("m", "c", False, "d", details)

    page = write_summary_page([result], tmp_path).read_text(encoding="utf-8")

    assert _details_cells(page)["m", "c"] == json.dumps(details)[:600] + "…"
    assert "<td><code>" + html.escape(json.dumps(details)[:600]) + "…</code></td>" in page
    short = write_summary_page([MartCheckResult("m", "c", True, "d", {"n": 1})], tmp_path).read_text()
    assert "<td><code>{&quot;n&quot;: 1}</code></td>" in short  # nothing cut, nothing added
