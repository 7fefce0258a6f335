"""great-expectations checks of the published marts, derived from the dbt manifest, with Data Docs.

dbt is the one definition of what a mart promises: the model yml documents its columns, its `unique` /
`unique_combination` tests declare its grain, and ranges and reconciliation with the raw totals are dbt
tests (asset checks on `marts/*` in Dagster). What only the *published* files can tell stays here:
`check_published_marts` validates the current version of every mart (`publish.current_parquet`) with
the expectation suites built from dbt's manifest (`mart_specs`: the models of the marts/ folder; `suite_name`:
one per mart for grain and schema, `<mart>.volume`, `<mart>.recency`), and renders the results as a static
Data Docs site in `docs_dir` plus `checks.html` (quality_page.py).

Checks (each made of one or more expectations; a check passes when all of them pass):
- `volume`: the file has rows; skipped when the yml says `config: meta: may_be_empty: true` (a mart
  fed by an optional Studio section or API; dbt's reconciliation tests catch one left empty wrongly).
- `grain`: the columns of each unique / unique_combination test are never null and unique together.
- `schema`: every column the model yml documents is published (extra columns are allowed).
- `recency` (`config: meta: recency_column: <date column>`): for every account in the mart, its newest
  date is at most `recency_days` older than its own newest loaded export, and not newer. The export
  dates are the published `dim_accounts.last_export_date` (a handle's newest); an account without one fails.
  Its suite, `<mart>.recency`, validates one row per account (handle, newest date, export date, lag_days).

A mart of the manifest that was not published yields one failed `volume` result and no other checks;
a published parquet file that the manifest does not know still gets its `volume` check.

Design choices:
- Only the marts whose inputs changed are validated again (`quality_state.py`: the published file's
  content hash, the manifest's promises, the recency window and the export dates it compares with); the
  others keep their recorded results, so a daily run reads the files it changed, not the whole history,
  and imports great_expectations only when one changed.
- One *ephemeral* GE context per call, rebuilt from the manifest every time; only the validation
  results persist (the newest per mart, `<docs>/.validations/`), so the Data Docs list every mart with
  its latest check of what is published now (a mart's earlier pages are removed when it is checked again).
- GE validates frames DuckDB computes from the published file (quality_frames.py), never a whole file in pandas
  (a changed mart can hold every video's every day). The mart's suite gets the rows breaking its grain (a null
  key column, a key shared with another row) with the file's columns: every row its expectations can report,
  so verdicts, counts and examples are the whole file's. Volume validates the row count, recency one row per account.
- Each mart's suite is validated and its result stored as `ValidationDefinition.run` does, without a
  `Checkpoint` or stored validation definitions: their freshness checks read back and compare every suite
  (twice per mart), 1.2 s at 300 accounts beside 2.5 s of validation (`_run_suite`). The results, their
  run name and the pages are the same; only the two random ids in a result's meta are null. It uses the
  Validator `ValidationDefinition.run` uses (`great_expectations.validator.v1_validator`, not public API):
  tests/test_mart_quality_docs.py fails if a GE upgrade changes what is stored.
- Recency is two expectations on a frame of one row per account (duckdb reads the two files): lag_days
  not null (an unknown export date) and within 0..recency_days. Their COMPLETE result lists each failing
  account with its dates (`unexpected_index_column_names`) in the stored result and its Data Docs page (a table
  by lag, ten accounts per lag shown); the check's details hold those rows and, first on checks.html, each
  account in a few words (`accounts_failing`: "bob (4 days behind its export of 2024-03-06)").
  One expectation per account (a row condition each) said the same at 305 expectations at 300 accounts:
  GE's fixed cost per expectation made it most of the validation (the check: 3.4 -> 2.4 s of CPU).
- GE's costs that tell nothing here are skipped (GE internals, each guarded by a test that fails if an
  upgrade moves it: test_mart_quality_docs.py, _domains.py): the batch's data fingerprint and repeated
  configuration builds (`_ge_shortcuts`, ~0.45 s at 300 accounts), each metric domain computed again
  (`_domains_computed_once`, ~0.25 s), the ephemeral context's config written out after each asset added
  (`quality_page.docs_context`, ~0.1 s). All 20 marts of the time (21 since) at 300 x 90 days: ~1.5 s.
- The site is built once after the run, not by `UpdateDataDocsAction` (once per validation result).
- great_expectations is imported inside the function: it takes seconds to import, and importing
  this module (e.g. from the Dagster definitions) must stay cheap and side-effect free.
- Offline: analytics are switched off in the context config and through `GX_ANALYTICS_ENABLED`;
  generating the docs needs no network. The pages load their scripts and styles from public CDNs,
  so offline the index's tables stay empty (the validation pages render, unstyled).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.core.paths import DBT_PROJECT_DIR
from orchestration.lib.marts import quality_frames, quality_state
from orchestration.lib.marts.publish import current_parquet
from orchestration.lib.marts.quality_page import (
    DOCS_SITE_NAME,
    docs_context,
    failing_accounts,
    outcome_record,
    remove_previous_pages,
    write_summary_page,
)

# Where `dbt parse` (make prepare) and Dagster's DbtProject put the manifest.
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# The published mart and column that say when each account's newest export was loaded.
EXPORT_DATES = ("dim_accounts", "last_export_date")
_GRAIN_TESTS = ("unique", "unique_combination")
_SUMMARY = {"result_format": "SUMMARY"}
_GE_PATCHED = threading.RLock()  # held by the thread whose validation patches GE (_ge_shortcuts)


@dataclass(frozen=True)
class MartCheckResult:
    mart: str  # model name, e.g. "fct_account_overview_daily"
    check: str  # short stable name: "volume", "grain", "schema", "recency"
    passed: bool
    description: str  # one sentence a user understands
    details: dict  # JSON-serialisable figures: observed vs expected, unexpected counts, etc.


@dataclass(frozen=True)
class MartSpec:
    """What one published mart promises, as dbt's manifest declares it."""

    name: str
    columns: tuple[str, ...] = ()  # documented in the model yml, in yml order
    keys: tuple[tuple[str, ...], ...] = ()  # one per unique / unique_combination test
    may_be_empty: bool = False  # config.meta.may_be_empty
    recency_column: str | None = None  # config.meta.recency_column


def mart_specs(manifest_path: Path) -> dict[str, MartSpec]:
    """Every model of dbt's marts/ folder (the rule of `definitions.mart_models`), by name."""
    nodes = json.loads(Path(manifest_path).read_text(encoding="utf-8"))["nodes"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model" and n["fqn"][1:2] == ["marts"]}
    keys: dict[str, set[tuple[str, ...]]] = {uid: set() for uid in models}
    for test in nodes.values():
        kind, kwargs = (test.get("test_metadata") or {}).get("name"), (test.get("test_metadata") or {}).get("kwargs")
        if test["resource_type"] == "test" and test.get("attached_node") in keys and kind in _GRAIN_TESTS:
            key = kwargs["combination_of_columns"] if kind == "unique_combination" else [kwargs["column_name"]]
            keys[test["attached_node"]].add(tuple(key))
    specs = {}
    for uid, node in sorted(models.items(), key=lambda item: item[1]["name"]):
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        columns, may_be_empty = tuple(node.get("columns") or {}), bool(meta.get("may_be_empty"))
        specs[node["name"]] = MartSpec(
            node["name"], columns, tuple(sorted(keys[uid])), may_be_empty, meta.get("recency_column")
        )
    return specs


def check_published_marts(
    marts_dir: Path, docs_dir: Path, *, manifest_path: Path = DBT_MANIFEST, recency_days: int = 3
) -> list[MartCheckResult]:
    """Validate the published marts that changed and write Data Docs to `docs_dir` (`index.html` is the entry).

    Returns one result per mart and check, in a stable order: the marts of the manifest by name, then
    any other published parquet file by name; within a mart, checks in a fixed order.
    """
    marts_dir, docs_dir = Path(marts_dir), Path(docs_dir)
    specs = mart_specs(manifest_path)
    specs |= {p.stem: MartSpec(p.stem) for p in sorted(marts_dir.glob("*.parquet")) if p.stem not in specs}
    missing: dict[str, MartCheckResult] = {}
    signatures: dict[str, str] = {}
    for mart in specs:
        path = _published(marts_dir, mart)
        if not path.is_file():
            description = f"{mart} was not published: {path.name} is missing."
            missing[mart] = MartCheckResult(mart, "volume", False, description, {"path": str(path), "exists": False})
        else:
            export_dates = _published(marts_dir, EXPORT_DATES[0])
            signatures[mart] = quality_state.signature(specs[mart], path, recency_days, export_dates)
    kept = quality_state.reusable(docs_dir, signatures)
    to_check = {mart: specs[mart] for mart in signatures if mart not in kept}
    results = list(missing.values()) + [result for mart_results in kept.values() for result in mart_results]
    if to_check:
        results += _validate(to_check, specs, marts_dir, docs_dir, recency_days)
    order = {mart: i for i, mart in enumerate(specs)}
    results = sorted(results, key=lambda r: order[r.mart])  # stable: keeps check order within a mart
    quality_state.save(docs_dir, signatures, results)
    write_summary_page(results, docs_dir)
    return results


def _validate(
    to_check: dict[str, MartSpec], specs: dict[str, MartSpec], marts_dir: Path, docs_dir: Path, recency_days: int
) -> list[MartCheckResult]:
    """Validate the marts of `to_check`, one run id for all; the Data Docs keep every other mart's newest pages."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    remove_previous_pages(docs_dir, to_check, keep=set(specs))
    context = docs_context(gx, docs_dir)
    datasource = context.data_sources.add_pandas(name="published_marts")
    run_id = RunIdentifier(run_name="published_marts")
    planned: list[tuple[str, str, str]] = []  # (mart, check, description)
    contexts: dict[tuple[str, str], dict[str, Any]] = {}  # (mart, check) -> the figures it was built from
    rendered: list[Any] = []
    outcomes: dict[tuple[str, str], list[Any]] = {}
    con = duckdb.connect()  # one for every frame: opening one costs ~20 ms
    con.execute("set TimeZone = 'UTC'")  # timestamps in the results as the file holds them, whatever the host's
    try:
        for mart, spec in specs.items():
            if not _published(marts_dir, mart).is_file():
                continue
            suites: dict[str, list[Any]] = {}  # suite name -> its expectations
            for check, description, expectations in _checks_for(gx, spec, recency_days):
                if mart in to_check:
                    planned.append((mart, check, description))
                for expectation in expectations:
                    expectation.meta = {**(expectation.meta or {}), "check": check}
                suites.setdefault(suite_name(mart, check), []).extend(expectations)
            # Every suite, so the index lists every mart; built whole, then added once (`add_expectation` saves).
            added = [context.suites.add(gx.ExpectationSuite(name=name, expectations=e)) for name, e in suites.items()]
            if mart not in to_check:
                continue
            path = _published(marts_dir, mart)
            grain = quality_frames.rows_breaking_grain(con, spec, path)  # the grain's frame, the volume's figures
            for suite in added:
                check = suite.name.removeprefix(mart).removeprefix(".") or "grain"
                frame, found, result_format = _frame_for(con, check, spec, path, marts_dir, recency_days, grain)
                contexts[mart, check] = found
                if frame is None:
                    continue
                asset = datasource.add_dataframe_asset(name=suite.name)
                batch, parameters = asset.add_batch_definition_whole_dataframe(path.name), {"dataframe": frame}
                source = quality_frames.described(check, path, found)
                with _ge_shortcuts():
                    key, result = _run_suite(context, batch, suite, run_id, parameters, result_format, source)
                rendered += [key, ExpectationSuiteIdentifier(name=suite.name)]
                for outcome in result.results:
                    outcomes.setdefault((mart, outcome.expectation_config.meta["check"]), []).append(outcome)
    finally:
        con.close()
    context.build_data_docs(site_names=[DOCS_SITE_NAME], resource_identifiers=rendered)
    return [
        _summarise(mart, check, description, _context(contexts, mart, check), outcomes.get((mart, check), []))
        for mart, check, description in planned
    ]


def _frame_for(
    con: duckdb.DuckDBPyConnection,
    check: str,
    spec: MartSpec,
    path: Path,
    marts_dir: Path,
    recency_days: int,
    grain: tuple[Any, dict[str, Any]],
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """What the suite of `check` validates (None: unreadable), its check's figures, GE's result format."""
    breaking, figures = grain
    if check == "recency":
        accounts = _published(marts_dir, EXPORT_DATES[0])
        frame, found = quality_frames.recency_by_account(con, spec, path, accounts, EXPORT_DATES, recency_days)
        return frame, found, _recency_result_format(spec)
    if check == "volume":
        return quality_frames.row_count_frame(figures), quality_frames.read_error(figures), _SUMMARY
    return breaking, figures, _SUMMARY  # grain and schema


def _context(contexts: dict[tuple[str, str], dict[str, Any]], mart: str, check: str) -> dict[str, Any]:
    """The figures of a check's frame; schema reads the grain's frame (only its read error counts)."""
    found = contexts.get((mart, "grain" if check == "schema" else check), {})
    return quality_frames.read_error(found) if check == "schema" else found


def _run_suite(
    context: Any,
    batch_definition: Any,
    suite: Any,
    run_id: Any,
    parameters: dict | None,
    result_format: dict,
    source: dict[str, Any],
) -> tuple[Any, Any]:
    """Validate one suite and store its result, as `ValidationDefinition.run` does minus its freshness checks;
    `source` (`quality_frames.described`) joins the result's batch spec.

    Those checks (`is_fresh`, twice per suite under a `Checkpoint`) read back and compare the whole suite
    from the store, once more for every expectation.
    """
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(batch_definition=batch_definition, result_format=result_format, batch_parameters=parameters)
    with _domains_computed_once(validator._wrapped_validator.execution_engine):
        result = validator.validate_expectation_suite(suite)
    if "rows_in_file" in source:  # a frame of some of the file's rows: its counts told over the file's rows
        for outcome in result.results:
            quality_frames.counted_over_file(outcome.result, source["rows_in_file"])
    result.meta |= {  # the keys ValidationDefinition.run and Checkpoint.run add (no stored definition: no ids)
        "validation_id": None,
        "checkpoint_id": None,
        "run_id": run_id,
        "validation_time": run_id.run_time,
        "batch_parameters": None,
        "batch_spec": {**result.meta.get("batch_spec", {}), **source},  # its page's Batch Spec names the file
    }
    suite_key = ExpectationSuiteIdentifier(name=suite.name)
    key = ValidationResultIdentifier(
        expectation_suite_identifier=suite_key, run_id=run_id, batch_identifier=validator.active_batch_id
    )
    context.validation_results_store.store_validation_results(result, key, suite_key)
    return key, result


@contextmanager
def _ge_shortcuts() -> Iterator[None]:
    """While a suite is validated, GE skips two costs that tell nothing here (~0.45 s at 300 accounts).

    - The batch's `pandas_data_fingerprint`, a hash of every value of the frame (~0.3 s on whole marts, little on
      quality_frames.py's): the batch spec names the published file, whose name holds its content digest.
    - A new `Expectation.configuration` (a pydantic `.dict()`) at each of its up to 42 reads per expectation:
      built once per expectation. GE builds the expectations it validates anew for each validation and
      only reads their configuration meanwhile; the stored results are the same.
    What a GE upgrade moves is left as it is; tests/test_mart_quality_docs.py then fails.
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine_module
    from great_expectations.expectations.expectation import Expectation

    with _GE_PATCHED:  # the patch is process-wide: overlapping validations would restore it out of order
        threshold, configuration = vars(engine_module).get("HASH_THRESHOLD"), vars(Expectation).get("configuration")
        built: dict[int, tuple[Any, Any]] = {}  # holds each expectation: its id stays its own

        def built_once(expectation: Any) -> Any:
            if id(expectation) not in built:
                built[id(expectation)] = (expectation, configuration.fget(expectation))
            return built[id(expectation)][1]

        shortcut = isinstance(threshold, float | int) and isinstance(configuration, property)
        if shortcut:
            engine_module.HASH_THRESHOLD, Expectation.configuration = 0, property(built_once)
        try:
            yield
        finally:
            if shortcut:
                engine_module.HASH_THRESHOLD, Expectation.configuration = threshold, configuration


@contextmanager
def _domains_computed_once(engine: Any) -> Iterator[None]:
    """While one suite is validated, the pandas engine computes each metric domain once, not once per metric.

    GE asks for a metric's rows (`get_domain_records`: rows with a missing key dropped) for every metric it
    computes on them: 5 times per compound key, each a new frame of the mart's rows. Here the first answer
    is kept for the rest of the suite, for the same arguments: ~0.25 s of CPU at 300 accounts. GE's metrics
    only read the frames (an unfiltered domain is the batch's own frame), so sharing one changes nothing.
    """
    from great_expectations.expectations.row_conditions import Condition

    get_domain_records, domains = engine.get_domain_records, {}

    def records(domain_kwargs: dict) -> Any:
        if not all(isinstance(value, (str, list, dict, Condition, type(None))) for value in domain_kwargs.values()):
            return get_domain_records(domain_kwargs)  # a value whose repr may not tell it apart
        key = repr(sorted(domain_kwargs.items()))
        if key not in domains:
            domains[key] = get_domain_records(domain_kwargs)
        return domains[key]

    own = vars(engine).get("get_domain_records")
    engine.get_domain_records = records
    try:
        yield
    finally:  # the engine may serve the next mart: its frames are released with the memo
        del engine.get_domain_records
        if own is not None:
            engine.get_domain_records = own


_Check = tuple[str, str, list[Any]]  # (check, description, expectations)


def _checks_for(gx: Any, spec: MartSpec, recency_days: int) -> Iterable[_Check]:
    """Yield the checks of one mart, in a fixed order: the same expectations whatever the data."""
    e, mart = gx.expectations, spec.name
    if not spec.may_be_empty:
        yield "volume", f"{mart} has at least one row.", [e.ExpectColumnMinToBeBetween(column="row_count", min_value=1)]
    if spec.keys:
        key_columns = list(dict.fromkeys(c for key in spec.keys for c in key))
        keys_text = " and by ".join(f"({', '.join(key)})" for key in spec.keys)
        yield (
            "grain",
            f"{mart} has exactly one row per {keys_text}, with no empty key column (its dbt grain).",
            [
                *(e.ExpectColumnValuesToNotBeNull(column=c) for c in key_columns),
                *(
                    e.ExpectCompoundColumnsToBeUnique(column_list=list(key))
                    if len(key) > 1
                    else e.ExpectColumnValuesToBeUnique(column=key[0])
                    for key in spec.keys
                ),
            ],
        )
    if spec.columns:
        yield (
            "schema",
            f"{mart} publishes every column its model yml documents ({len(spec.columns)}).",
            [e.ExpectTableColumnsToMatchSet(column_set=list(spec.columns), exact_match=False)],
        )
    if spec.recency_column:
        yield _recency(gx, spec, recency_days)


def _published(marts_dir: Path, mart: str) -> Path:
    """The mart's current immutable version (see publish.py), else `<model>.parquet` as written by hand."""
    return current_parquet(marts_dir, mart) or marts_dir / f"{mart}.parquet"


def suite_name(mart: str, check: str) -> str:
    """Grain and schema share the mart's suite (one frame: the rows breaking its grain, the file's columns); volume
    and recency have their own frames and suites, `<mart>.<check>`, which GE files under the mart's folders."""
    return f"{mart}.{check}" if check in ("volume", "recency") else mart


def _recency(gx: Any, spec: MartSpec, recency_days: int) -> _Check:
    """Per account (one row each, `quality_frames.recency_by_account`): its newest date within `recency_days` of
    its newest loaded export, and not newer."""
    column, exports = spec.recency_column, ".".join(EXPORT_DATES)
    description = (
        f"For every account, the newest {column} in {spec.name} is at most {recency_days} days older than "
        f"the account's newest loaded export ({exports}) and not newer."
    )
    expectations = [
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="lag_days",
            description=f"Every account of {spec.name} has a newest {column} and a loaded export date ({exports}).",
        ),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="lag_days",
            min_value=0,
            max_value=recency_days,
            description=(
                f"Every account's newest {column} is 0 to {recency_days} days (lag_days) before its newest loaded "
                f"export ({exports})."
            ),
        ),
    ]
    return "recency", description, expectations


def _recency_result_format(spec: MartSpec) -> dict[str, Any]:
    """Every account that fails, by handle with its dates, in the stored result and on its Data Docs page."""
    columns = ["account_handle", f"newest_{spec.recency_column}", EXPORT_DATES[1]]
    return {"result_format": "COMPLETE", "unexpected_index_column_names": columns}


def _summarise(
    mart: str, check: str, description: str, context: dict[str, Any], outcomes: list[Any]
) -> MartCheckResult:
    """One result per check: passed only if it had expectations, all passed, and no error was noted."""
    records = [outcome_record(outcome) for outcome in outcomes]
    failed = [record for record in records if not record["success"]]
    observed = {record["label"]: record["observed_value"] for record in records if "observed_value" in record}
    details: dict[str, Any] = {**context, "expectations": len(records), "failed": failed}
    if any("unexpected_rows" in record for record in failed):  # recency: the accounts, first on checks.html
        details["accounts_failing"] = failing_accounts(failed, EXPORT_DATES[1])
    if observed:
        details["observed"] = observed
    return MartCheckResult(mart, check, bool(records) and not failed and "error" not in context, description, details)
