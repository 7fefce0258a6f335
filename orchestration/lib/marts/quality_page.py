"""`checks.html`: the results of the published-mart checks (quality.py) as one plain HTML page.

great-expectations' own Data Docs index draws its results table with JavaScript from public CDNs, so
without network it shows an empty table; this page needs nothing but a browser.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestration.lib.marts.quality import MartCheckResult

PAGE_NAME = "checks.html"
_MAX_DETAILS = 600  # characters of each check's JSON details shown in the table


def write_summary_page(results: list[MartCheckResult], docs_dir: Path) -> Path:
    """Write `<docs_dir>/checks.html`, one table row per mart and check; returns its path."""
    rows = "\n".join(
        f"<tr class='{'ok' if r.passed else 'fail'}'><td>{html.escape(r.mart)}</td><td>{html.escape(r.check)}</td>"
        f"<td>{'passed' if r.passed else 'FAILED'}</td><td>{html.escape(r.description)}</td>"
        f"<td><code>{html.escape(json.dumps(r.details, sort_keys=True, default=str))[:_MAX_DETAILS]}</code></td></tr>"
        for r in results
    )
    failed = sum(not r.passed for r in results)
    page = f"""<!doctype html><meta charset="utf-8"><title>Mart quality</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}
table{{border-collapse:collapse}}.fail{{background:#fdd}}.ok td:nth-child(3){{color:#070}}code{{font-size:80%}}</style>
<h1>Published marts: {len(results) - failed} of {len(results)} checks passed</h1>
<p>Checks of the published parquet files (schema, volume, grain, recency per account), derived from the dbt
manifest. Ranges and reconciliation with the raw totals are dbt tests: they show as asset checks on
<code>marts/*</code> in the Dagster UI.</p>
<p>Full great-expectations Data Docs: <a href="index.html">index.html</a> (its table needs network for its scripts;
the validation pages it links to do not).</p>
<table><tr><th>mart</th><th>check</th><th>result</th><th>what it checks</th><th>details</th></tr>
{rows}
</table>
"""
    target = Path(docs_dir) / PAGE_NAME
    target.write_text(page, encoding="utf-8")
    return target
