"""The pages of the published-mart checks (quality.py): `checks.html` and what each check's details say of its
expectations' outcomes, and the great-expectations context that writes the Data Docs site beside it.

great-expectations' own Data Docs index draws its results table with JavaScript from public CDNs, so
without network it shows an empty table; `checks.html` needs nothing but a browser.
"""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestration.lib.marts import quality_state

if TYPE_CHECKING:
    from orchestration.lib.marts.quality import MartCheckResult

PAGE_NAME = "checks.html"
DOCS_SITE_NAME = "mart_quality"
_MAX_DETAILS = 600  # characters of each check's JSON details shown in the table


def write_summary_page(results: list[MartCheckResult], docs_dir: Path) -> Path:
    """Write `<docs_dir>/checks.html`, one table row per mart and check; returns its path."""
    rows = "\n".join(
        f"<tr class='{'ok' if r.passed else 'fail'}'><td>{html.escape(r.mart)}</td><td>{html.escape(r.check)}</td>"
        f"<td>{'passed' if r.passed else 'FAILED'}</td><td>{html.escape(r.description)}</td>"
        f"<td><code>{html.escape(_cut(json.dumps(r.details, sort_keys=True, default=str)))}</code></td></tr>"
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


def _cut(text: str) -> str:
    """At most _MAX_DETAILS characters of the text itself (cut before escaping: never inside an entity)."""
    return text if len(text) <= _MAX_DETAILS else text[:_MAX_DETAILS] + "…"


def failing_accounts(records: list[dict[str, Any]], export_column: str) -> list[str]:
    """Each account a recency check failed, by handle, with why: "bob (4 days behind its export of
    2026-03-06)". Its details' first key after the count, so checks.html shows it before the long records."""
    reasons: dict[str, str] = {}
    for record in records:
        for row in record.get("unexpected_rows", []):
            reasons.setdefault(str(row["account_handle"]), _lag_reason(row, export_column))
    return [f"{handle} ({reason})" for handle, reason in sorted(reasons.items())]


def _lag_reason(row: dict[str, Any], export_column: str) -> str:
    lag, export_date = row.get("lag_days"), row.get(export_column)
    if export_date is None:
        return "no loaded export date"
    if lag is None:
        newest = next((key for key in row if key.startswith("newest_")), "newest_date")
        return f"no {newest.removeprefix('newest_')}"
    days = f"{abs(lag)} day{'' if abs(lag) == 1 else 's'}"
    return f"{days} {'behind' if lag >= 0 else 'newer than'} its export of {export_date}"


def docs_context(gx: Any, docs_dir: Path) -> Any:
    """An ephemeral GE context whose validation results persist in `<docs>/.validations/` (quality_state.py)."""
    from great_expectations.data_context.types import base

    defaults = base.InMemoryStoreBackendDefaults()
    defaults.stores[defaults.validation_results_store_name]["store_backend"] = {
        "class_name": "TupleFilesystemStoreBackend",
        "base_directory": str(quality_state.store_dir(docs_dir).resolve()),
    }
    config = base.DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=base.ProgressBarsConfig(globally=False),
        data_docs_sites={
            DOCS_SITE_NAME: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    # Each data asset and batch definition added would write the whole config (every asset so far) as YAML to
    # an in-memory store nothing reads: 43 times, ~0.1 s at 300 accounts. Nothing else changes the config.
    context._save_project_config = lambda: None
    return context


def remove_previous_pages(docs_dir: Path, marts: Iterable[str], keep: set[str]) -> None:
    """Drop the stored results and pages of each mart validated again, and of marts no longer published.

    A mart's folders hold its other suites' too (`<mart>.recency`: GE files a dotted suite name in subfolders)."""
    stored = quality_state.store_dir(docs_dir)
    gone = {p.name for p in stored.iterdir() if p.is_dir() and p.name not in keep} if stored.is_dir() else set()
    for mart in {*marts, *gone}:
        shutil.rmtree(stored / mart, ignore_errors=True)
        shutil.rmtree(docs_dir / "validations" / mart, ignore_errors=True)
        shutil.rmtree(docs_dir / "expectations" / mart, ignore_errors=True)
        (docs_dir / "expectations" / f"{mart}.html").unlink(missing_ok=True)


_KWARG_KEYS = ("column", "column_list", "column_set", "min_value", "max_value", "value", "value_set")
_RESULT_KEYS = ("observed_value", "element_count", "unexpected_count", "unexpected_percent", "missing_count")


def outcome_record(outcome: Any) -> dict[str, Any]:
    """A compact, JSON-ready account of one expectation's outcome: what a check's details say of it."""
    from great_expectations.util import convert_to_json_serializable

    config = outcome.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k in _KWARG_KEYS and v is not None}
    result = outcome.result or {}
    record: dict[str, Any] = {
        "expectation": config.type,
        "label": _label(config.type, kwargs),
        "success": bool(outcome.success),
        "expected": kwargs,
    }
    record.update({k: result[k] for k in _RESULT_KEYS if k in result})
    if result.get("unexpected_index_column_names") and result.get("unexpected_index_list"):
        record["unexpected_rows"] = result["unexpected_index_list"]  # recency: each failing account, its dates
    elif result.get("partial_unexpected_list"):
        record["unexpected_examples"] = result["partial_unexpected_list"][:5]
    mismatched = (result.get("details") or {}).get("mismatched")
    if mismatched:
        record["mismatched"] = mismatched  # schema: {"missing": [...], "unexpected": [...]}
    errors = _exception_messages(outcome.exception_info or {})
    if errors:
        record["errors"] = errors
    return convert_to_json_serializable(record)


def _exception_messages(info: dict[str, Any]) -> list[str]:
    """GE 1.x nests metric errors per metric id; an expectation's own error sits at the top."""
    if "exception_message" in info:
        return [info["exception_message"]] if info.get("raised_exception") else []
    return sorted({m for nested in info.values() if isinstance(nested, dict) for m in _exception_messages(nested)})


def _label(expectation_type: str, kwargs: dict[str, Any]) -> str:
    """'row_count', 'max(metric_date)', 'columns', ... for the `observed` summary."""
    column = kwargs.get("column")
    if "row_count" in expectation_type or column == "row_count":  # volume: the row count of its one-row frame
        return "row_count"
    for aggregate in ("sum", "max", "min", "mean"):
        if expectation_type.startswith(f"expect_column_{aggregate}_"):
            return f"{aggregate}({column})"
    if expectation_type == "expect_table_columns_to_match_set":
        return "columns"
    subject = column or ",".join(kwargs.get("column_list", []))
    return f"{expectation_type.removeprefix('expect_')}({subject})"
