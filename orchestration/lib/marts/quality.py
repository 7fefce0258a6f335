"""great-expectations checks of the published marts, with Data Docs.

`check_published_marts` validates every published `<marts_dir>/<model>.parquet` with one
expectation suite per mart and renders the results as a static Data Docs site in `docs_dir`.

Checks (each made of one or more expectations; a check passes when all of them pass):
- `volume`: the mart has rows. Asked only of the overview mart and dim_accounts: the others are fed by
  optional Studio sections (a user may never download Followers), and reconciliation still catches a
  mart left empty while its staging source has rows.
- `grain`: key columns are never null and each unique key is unique (the dbt grain, re-checked on
  the published file).
- `schema`: every contract column is published (extra columns are allowed).
- `ranges`: counts are not negative, ranks, hours and shares stay in bounds, flags are booleans.
- `reconciles_with_raw`: exact equality with figures computed from the working DuckDB's staging
  views (which deduplicate overlapping exports, so they are the right "raw total" to compare with).
- `recency`: the overview mart reaches to within `recency_days` of the newest loaded export.

A mart of `MARTS` that was not published yields one failed `volume` result and no other checks;
a published parquet file that `MARTS` does not know still gets its `volume` check.

Design choices:
- One *ephemeral* GE context per call: suites, validation definitions and the checkpoint are
  rebuilt from this code every time (the code is the single definition), nothing is persisted but
  the Data Docs. The docs therefore show the latest check of what is published now, like the marts
  themselves; pages of earlier runs are removed so that none lingers unlinked.
- Marts are read through pandas *parquet* assets, not dataframe assets: `Checkpoint.run` takes a
  single `batch_parameters` for all its validation definitions, so dataframe assets would need one
  checkpoint per mart. With file assets one checkpoint validates every mart.
- The site is built once after the run instead of by `UpdateDataDocsAction`, which rebuilds the
  whole site, index included, once per validation result (six times the rendering for six marts).
- great_expectations is imported inside the function: it takes seconds to import, and importing
  this module (e.g. from the Dagster definitions) must stay cheap and side-effect free.
- Offline: GE 1.24 ships no usage-statistics client any more, but analytics are still switched off
  in the context config and through `GX_ANALYTICS_ENABLED`. Generating the docs needs no network.
  The pages load Bootstrap, jQuery and bootstrap-table from public CDNs: opened without network,
  the validation pages render unstyled and the index's result tables (drawn by JavaScript) stay
  empty.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from orchestration.lib.core.paths import DBT_PROJECT_DIR

DOCS_SITE_NAME = "mart_quality"
# An engagement rate is (likes + comments + shares) / views: above 10 means a broken denominator.
MAX_ENGAGEMENT_RATE = 10


@dataclass(frozen=True)
class MartCheckResult:
    mart: str  # model name, e.g. "fct_account_overview_daily"
    check: str  # short stable name: "volume", "grain", "schema", "ranges", "reconciles_with_raw", "recency"
    passed: bool
    description: str  # one sentence a user understands
    details: dict  # JSON-serialisable figures: observed vs expected, unexpected counts, etc.


@dataclass(frozen=True)
class _MartSpec:
    """What one published mart promises (mirrors models/marts/_marts__models.yml)."""

    grain_text: str  # "account per day"
    keys: tuple[tuple[str, ...], ...]  # unique keys, the grain first
    columns: tuple[str, ...]  # the contract: these at least (extra columns are allowed)
    non_negative: tuple[str, ...] = ()  # nulls allowed ("undefined" in the export)
    # (column, min, max), nulls allowed; max None = unbounded, a str = that dbt var's value
    bounds: tuple[tuple[str, float, float | str | None], ...] = ()
    flags: tuple[str, ...] = ()  # booleans, never null
    ranges_text: str = ""
    may_be_empty: bool = False  # small accounts get no audience breakdown at all


_OVERVIEW_COUNTS = (
    "video_views",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "total_viewers",
    "new_viewers",
    "returning_viewers",
)
# Lifetime totals never go below 0; the "gained" deltas can (TikTok revises counters down).
_VIDEO_TOTALS = ("views_total", "likes_total", "comments_total", "shares_total")


def _distribution_mart(dimension: str) -> _MartSpec:
    return _MartSpec(
        grain_text=f"account per snapshot day per {dimension}",
        keys=(("account_handle", "snapshot_date", dimension),),
        columns=("account_handle", "snapshot_date", dimension, "distribution"),
        bounds=(("distribution", 0, 1),),
        ranges_text="Audience shares lie between 0 and 1.",
        may_be_empty=True,
    )


MARTS: dict[str, _MartSpec] = {
    "fct_account_overview_daily": _MartSpec(
        grain_text="account per day",
        keys=(("account_handle", "metric_date"),),
        columns=("account_handle", "metric_date", *_OVERVIEW_COUNTS, "is_provisional"),
        non_negative=_OVERVIEW_COUNTS,
        flags=("is_provisional",),
        ranges_text="Daily views, likes, comments, shares and viewers are never negative, "
        "and every day is flagged provisional or not.",
    ),
    "fct_follower_growth_daily": _MartSpec(
        grain_text="account per day",
        keys=(("account_handle", "metric_date"),),
        columns=(
            "account_handle",
            "metric_date",
            "followers",
            "net_follower_change",
            "net_follower_change_7d",
            "net_follower_change_28d",
        ),
        non_negative=("followers",),
        ranges_text="Follower totals are never negative.",
        may_be_empty=True,  # fed by an optional Studio section; reconciliation still applies
    ),
    "fct_video_engagement_daily": _MartSpec(
        grain_text="video per snapshot day",
        keys=(("account_handle", "video_id", "metric_date"),),
        columns=(
            "account_handle",
            "video_id",
            "metric_date",
            *_VIDEO_TOTALS,
            "views_gained",
            "likes_gained",
            "comments_gained",
            "shares_gained",
            "days_since_previous_snapshot",
            "engagement_rate",
        ),
        non_negative=_VIDEO_TOTALS,
        bounds=(
            ("days_since_previous_snapshot", 1, None),
            ("engagement_rate", 0, MAX_ENGAGEMENT_RATE),
        ),
        ranges_text="Lifetime video totals are never negative, snapshots are at least a day apart, "
        f"and engagement rates lie between 0 and {MAX_ENGAGEMENT_RATE} (or are empty).",
        may_be_empty=True,  # fed by an optional Studio section; reconciliation still applies
    ),
    "rpt_trending_videos_7d": _MartSpec(
        grain_text="trending video per account per as-of date",
        keys=(
            ("account_handle", "as_of_date", "video_id"),
            ("account_handle", "as_of_date", "trending_rank"),
        ),
        columns=(
            "account_handle",
            "as_of_date",
            "trending_rank",
            "video_id",
            "views_gained_7d",
            "views_total",
            "post_date",
            "has_full_window",
        ),
        non_negative=("views_total",),
        bounds=(("trending_rank", 1, "trending_top_n"),),
        flags=("has_full_window",),
        ranges_text="Trending ranks run from 1 to {trending_top_n}, lifetime views are never negative, "
        "and every row says whether its 7-day window is complete.",
        may_be_empty=True,  # fed by an optional Studio section; reconciliation still applies
    ),
    "dim_videos": _MartSpec(
        grain_text="video",
        keys=(("account_handle", "video_id"),),
        columns=("account_handle", "video_id", *_VIDEO_TOTALS),
        non_negative=_VIDEO_TOTALS,
        ranges_text="Lifetime video totals are never negative.",
        may_be_empty=True,  # fed by an optional Studio section; reconciliation still applies
    ),
    "dim_accounts": _MartSpec(grain_text="account", keys=(("account_handle",),), columns=("account_handle",)),
    "fct_follower_activity_hourly": _MartSpec(
        grain_text="account per day per hour",
        keys=(("account_handle", "metric_date", "hour"),),
        columns=("account_handle", "metric_date", "hour", "active_followers"),
        non_negative=("active_followers",),
        bounds=(("hour", 0, 23),),
        ranges_text="Hours run from 0 to 23 and active-follower counts are never negative.",
        may_be_empty=True,  # only accounts whose Followers section was downloaded have any
    ),
    "fct_follower_gender_snapshot": _distribution_mart("gender"),
    "fct_follower_territory_snapshot": _distribution_mart("territory"),
    # TikTok Business API only (docs/api-sources.md): empty without a Business account
    "fct_video_business_metrics_daily": _MartSpec(
        grain_text="Business-account video per snapshot day",
        keys=(("account_handle", "video_id", "metric_date"),),
        columns=(
            "account_handle",
            "video_id",
            "metric_date",
            "views_total",
            "reach_total",
            "total_time_watched_s",
            "average_time_watched_s",
            "full_video_watched_rate",
        ),
        non_negative=("views_total", "reach_total", "total_time_watched_s", "average_time_watched_s"),
        bounds=(("full_video_watched_rate", 0, 1),),
        ranges_text="Views, reach and watch times are never negative; completion rates lie between 0 and 1.",
        may_be_empty=True,
    ),
    "fct_video_traffic_sources_daily": _MartSpec(
        grain_text="Business-account video per snapshot day per traffic source",
        keys=(("account_handle", "video_id", "metric_date", "impression_source"),),
        columns=("account_handle", "video_id", "metric_date", "impression_source", "share", "views_total"),
        bounds=(("share", 0, 1),),
        ranges_text="Traffic-source shares lie between 0 and 1.",
        may_be_empty=True,
    ),
    "fct_video_audience_countries_daily": _MartSpec(
        grain_text="Business-account video per snapshot day per viewer country",
        keys=(("account_handle", "video_id", "metric_date", "country"),),
        columns=("account_handle", "video_id", "metric_date", "country", "share", "views_total"),
        bounds=(("share", 0, 1),),
        ranges_text="Audience-country shares lie between 0 and 1.",
        may_be_empty=True,
    ),
}
# Any other published parquet file still gets a volume check.
_UNKNOWN_MART = _MartSpec(grain_text="", keys=(), columns=())


@dataclass(frozen=True)
class _RawFigures:
    """What the marts must reconcile with, read from the working DuckDB."""

    overview_video_views: int
    content_rows: int
    max_followers: int | None
    newest_export_date: dt.date | None


def check_published_marts(
    marts_dir: Path, warehouse_db: Path, docs_dir: Path, *, recency_days: int = 3
) -> list[MartCheckResult]:
    """Validate the published marts and write Data Docs to `docs_dir` (`index.html` is the entry).

    Returns one result per mart and check, in a stable order: the marts of `MARTS`, then any other
    published parquet file by name; within a mart, checks in a fixed order.
    """
    marts_dir, docs_dir = Path(marts_dir), Path(docs_dir)
    raw = _read_raw_figures(Path(warehouse_db))
    dbt_vars = _dbt_vars()
    others = sorted(p.stem for p in marts_dir.glob("*.parquet") if p.stem not in MARTS)
    specs = {**MARTS, **dict.fromkeys(others, _UNKNOWN_MART)}

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    context = _ephemeral_context(gx, docs_dir)
    datasource = context.data_sources.add_pandas(name="published_marts")

    missing: dict[str, MartCheckResult] = {}
    planned: list[tuple[str, str, str, dict[str, Any]]] = []  # (mart, check, description, context)
    validations = []
    for mart, spec in specs.items():
        path = marts_dir / f"{mart}.parquet"
        if not path.is_file():
            missing[mart] = MartCheckResult(
                mart=mart,
                check="volume",
                passed=False,
                description=f"{mart} was not published: {path.name} is missing.",
                details={"path": str(path), "exists": False},
            )
            continue
        batch = datasource.add_parquet_asset(name=mart, path=path).add_batch_definition_whole_dataframe("whole_file")
        suite_expectations = []
        for check, description, expectations, check_context in _checks_for(gx, mart, spec, raw, recency_days, dbt_vars):
            planned.append((mart, check, description, check_context))
            for expectation in expectations:
                expectation.meta = {**(expectation.meta or {}), "check": check}
                suite_expectations.append(expectation)
        # Built whole, then added once: `suite.add_expectation` saves the suite on every call.
        suite = context.suites.add(gx.ExpectationSuite(name=mart, expectations=suite_expectations))
        validations.append(
            context.validation_definitions.add(gx.ValidationDefinition(name=mart, data=batch, suite=suite))
        )

    _remove_previous_pages(docs_dir)
    outcomes: dict[tuple[str, str], list[Any]] = {}
    if validations:
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name="published_marts",
                validation_definitions=validations,
                actions=[],  # the site is built once below (see the module docstring)
                result_format={"result_format": "SUMMARY"},
            )
        )
        run = checkpoint.run(run_id=RunIdentifier(run_name="published_marts"))
        for suite_result in run.run_results.values():
            for outcome in suite_result.results:
                key = (suite_result.suite_name, outcome.expectation_config.meta["check"])
                outcomes.setdefault(key, []).append(outcome)
    context.build_data_docs(site_names=[DOCS_SITE_NAME])

    results = list(missing.values())
    for mart, check, description, check_context in planned:
        results.append(_summarise(mart, check, description, check_context, outcomes.get((mart, check), [])))
    order = {mart: i for i, mart in enumerate(specs)}
    results = sorted(results, key=lambda r: order[r.mart])  # stable: keeps check order within a mart
    write_summary_page(results, docs_dir)
    return results


def write_summary_page(results: list[MartCheckResult], docs_dir: Path) -> Path:
    """`checks.html`: every check in plain HTML, readable offline.

    GE's own index draws its results table with JavaScript from public CDNs, so without network it
    shows an empty table; this page needs nothing but a browser.
    """
    import html
    import json

    rows = "\n".join(
        f"<tr class='{'ok' if r.passed else 'fail'}'><td>{html.escape(r.mart)}</td><td>{html.escape(r.check)}</td>"
        f"<td>{'passed' if r.passed else 'FAILED'}</td><td>{html.escape(r.description)}</td>"
        f"<td><code>{html.escape(json.dumps(r.details, sort_keys=True, default=str))[:600]}</code></td></tr>"
        for r in results
    )
    failed = sum(not r.passed for r in results)
    page = f"""<!doctype html><meta charset="utf-8"><title>Mart quality</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}
table{{border-collapse:collapse}}.fail{{background:#fdd}}.ok td:nth-child(3){{color:#070}}code{{font-size:80%}}</style>
<h1>Published marts: {len(results) - failed} of {len(results)} checks passed</h1>
<p>Full great-expectations Data Docs: <a href="index.html">index.html</a> (its table needs network for its scripts;
the validation pages it links to do not).</p>
<table><tr><th>mart</th><th>check</th><th>result</th><th>what it checks</th><th>details</th></tr>
{rows}
</table>
"""
    target = Path(docs_dir) / "checks.html"
    target.write_text(page, encoding="utf-8")
    return target


_Check = tuple[str, str, list[Any], dict[str, Any]]  # (check, description, expectations, context)


def _checks_for(
    gx: Any, mart: str, spec: _MartSpec, raw: _RawFigures, recency_days: int, dbt_vars: dict[str, Any]
) -> Iterable[_Check]:
    """Yield the checks of one mart; `context` holds the figures they were built from, if any."""
    e = gx.expectations
    if not spec.may_be_empty:
        yield "volume", f"{mart} has at least one row.", [e.ExpectTableRowCountToBeBetween(min_value=1)], {}
    if spec.keys:
        key_columns = list(dict.fromkeys(c for key in spec.keys for c in key))
        keys_text = " and by ".join(f"({', '.join(key)})" for key in spec.keys)
        yield (
            "grain",
            f"{mart} has exactly one row per {spec.grain_text}, unique by {keys_text}, with no empty key.",
            [
                *(e.ExpectColumnValuesToNotBeNull(column=c) for c in key_columns),
                *(_unique(e, k) for k in spec.keys),
            ],
            {},
        )
    if spec.columns:
        yield (
            "schema",
            f"{mart} publishes every contract column.",
            [e.ExpectTableColumnsToMatchSet(column_set=list(spec.columns), exact_match=False)],
            {},
        )
    ranges = [
        *(e.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in spec.non_negative),
        *(
            e.ExpectColumnValuesToBeBetween(
                column=c, min_value=low, max_value=dbt_vars[high] if isinstance(high, str) else high
            )
            for c, low, high in spec.bounds
        ),
        *(expectation for c in spec.flags for expectation in _boolean(e, c)),
    ]
    if ranges:
        yield "ranges", spec.ranges_text.format(**dbt_vars), ranges, {}

    if mart == "fct_account_overview_daily":
        yield (
            "reconciles_with_raw",
            "Total video views in the mart equal the total of the deduplicated Studio overview exports.",
            [
                e.ExpectColumnSumToBeBetween(
                    column="video_views",
                    min_value=raw.overview_video_views,
                    max_value=raw.overview_video_views,
                    description=f"Sum of video_views equals the staging total {raw.overview_video_views}.",
                )
            ],
            {"raw": {"sum(video_views)": raw.overview_video_views}},
        )
        yield _recency(e, raw, recency_days)
    elif mart == "fct_follower_growth_daily":
        if raw.max_followers is None:
            followers = e.ExpectColumnValuesToBeNull(
                column="followers", description="No follower total was exported, so none is published."
            )
        else:
            followers = e.ExpectColumnMaxToBeBetween(
                column="followers",
                min_value=raw.max_followers,
                max_value=raw.max_followers,
                description=f"Highest follower total equals the exported maximum {raw.max_followers}.",
            )
        yield (
            "reconciles_with_raw",
            "The highest follower total in the mart equals the highest one in the follower-history exports.",
            [followers],
            {"raw": {"max(followers)": raw.max_followers}},
        )
    elif mart == "fct_video_engagement_daily":
        yield (
            "reconciles_with_raw",
            "The mart has one row per video snapshot in the deduplicated Studio content exports.",
            [
                e.ExpectTableRowCountToEqual(
                    value=raw.content_rows,
                    description=f"Row count equals the {raw.content_rows} staged content snapshots.",
                )
            ],
            {"raw": {"row_count": raw.content_rows}},
        )


def _unique(e: Any, columns: list[str]) -> Any:
    if len(columns) == 1:
        return e.ExpectColumnValuesToBeUnique(column=columns[0])
    return e.ExpectCompoundColumnsToBeUnique(column_list=columns)


def _boolean(e: Any, column: str) -> list[Any]:
    return [
        e.ExpectColumnValuesToNotBeNull(column=column),
        e.ExpectColumnValuesToBeInSet(column=column, value_set=[True, False]),
    ]


def _recency(e: Any, raw: _RawFigures, recency_days: int) -> _Check:
    newest = raw.newest_export_date
    context = {"newest_loaded_export_date": newest and newest.isoformat(), "recency_days": recency_days}
    if newest is None:
        # Nothing was loaded: there is no date to be recent against. No expectation, so it fails.
        context["reason"] = "raw.documents has no row with status 'loaded'"
        return "recency", "No export has been loaded, so the overview cannot be up to date.", [], context
    oldest_allowed = newest - dt.timedelta(days=recency_days)
    return (
        "recency",
        f"The newest day in the overview is at most {recency_days} days older than the newest "
        f"loaded export ({newest.isoformat()}) and not newer than it.",
        [
            e.ExpectColumnMaxToBeBetween(
                column="metric_date",
                min_value=oldest_allowed,
                max_value=newest,
                description=(f"Newest metric_date lies between {oldest_allowed.isoformat()} and {newest.isoformat()}."),
            )
        ],
        context,
    )


def _summarise(
    mart: str, check: str, description: str, context: dict[str, Any], outcomes: list[Any]
) -> MartCheckResult:
    """One result per check: passed only if it had expectations and all of them passed."""
    records = [_record(outcome) for outcome in outcomes]
    failed = [record for record in records if not record["success"]]
    observed = {record["label"]: record["observed_value"] for record in records if "observed_value" in record}
    details: dict[str, Any] = {**context, "expectations": len(records), "failed": failed}
    if observed:
        details["observed"] = observed
    return MartCheckResult(
        mart=mart,
        check=check,
        passed=bool(records) and not failed,
        description=description,
        details=details,
    )


_KWARG_KEYS = ("column", "column_list", "column_set", "min_value", "max_value", "value", "value_set")
_RESULT_KEYS = ("observed_value", "element_count", "unexpected_count", "unexpected_percent", "missing_count")


def _record(outcome: Any) -> dict[str, Any]:
    """A compact, JSON-ready account of one expectation's outcome."""
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
    if result.get("partial_unexpected_list"):
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
    """'sum(video_views)', 'row_count', 'max(metric_date)', ... for the `observed` summary."""
    column = kwargs.get("column")
    if "row_count" in expectation_type:
        return "row_count"
    for aggregate in ("sum", "max", "min", "mean"):
        if expectation_type.startswith(f"expect_column_{aggregate}_"):
            return f"{aggregate}({column})"
    if expectation_type == "expect_table_columns_to_match_set":
        return "columns"
    subject = column or ",".join(kwargs.get("column_list", []))
    return f"{expectation_type.removeprefix('expect_')}({subject})"


def _read_raw_figures(warehouse_db: Path) -> _RawFigures:
    with duckdb.connect(str(warehouse_db), read_only=True) as con:

        def scalar(sql: str) -> Any:
            return con.execute(sql).fetchone()[0]

        def exists(relation: str) -> bool:
            schema, name = relation.split(".")
            return bool(
                scalar(
                    "select count(*) from information_schema.tables"
                    f" where table_schema = '{schema}' and table_name = '{name}'"
                )
            )

        return _RawFigures(
            overview_video_views=int(scalar("select coalesce(sum(video_views), 0) from staging.stg_studio__overview")),
            # one row per video and day, whichever source (Studio Content or a TikTok API) saw it
            content_rows=int(
                scalar(
                    "select count(*) from ("
                    + " union ".join(
                        f"select account_handle, video_id, snapshot_date from {relation}"
                        for relation in ("staging.stg_studio__content", "staging.stg_tiktok_api__video_snapshots")
                        if exists(relation)
                    )
                    + ")"
                )
            ),
            # the follower total of each day from its best source (Studio FollowerHistory, then the APIs)
            max_followers=_int_or_none(
                scalar(
                    "select max(followers) from "
                    + (
                        "intermediate.int_follower_counts__unioned"
                        if exists("intermediate.int_follower_counts__unioned")
                        else "staging.stg_studio__follower_history"
                    )
                )
            ),
            newest_export_date=scalar("select max(export_date) from raw.documents where status = 'loaded'"),
        )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _dbt_vars() -> dict[str, Any]:
    """The knobs' defaults from dbt_project.yml, so a bound like the trending top N has one source."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return {"trending_top_n": 9, **(project.get("vars") or {})}


def _ephemeral_context(gx: Any, docs_dir: Path) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
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
    return gx.get_context(project_config=config, mode="ephemeral")


def _remove_previous_pages(docs_dir: Path) -> None:
    """Drop the pages GE rendered on earlier runs (they would linger, unlinked from the index)."""
    for folder in ("validations", "expectations"):
        shutil.rmtree(docs_dir / folder, ignore_errors=True)
    (docs_dir / "index.html").unlink(missing_ok=True)
