"""dbt's generic data tests run as one query per model instead of one dbt node each.

The project declares ~430 generic tests in its YAML (not_null, accepted_range, unique_combination,
relationships, accepted_values, unique), next to what they guard, and dbt runs each as a node of its own:
compile, a query, artifacts, ~20 ms of dbt per test, more than half of a whole build. The daily job runs the
same tests, declared the same way, once dbt built the models they read (in dbt's worker process as each is built,
`dbt_tests_alongside.py`; on a thread of the Dagster process after the build): each test's SQL as its macro compiles it,
counted as dbt counts it (`select count(*) from (<test sql>)`), all the tests of a model in one statement.
They are reported as the same dbt test results (names, status, failure counts), so Dagster shows the same
asset checks; dbt runs every other test (singular ones, shares_sum_to_at_most, any with other templating
than a plain `{{ var('x') }}`, which takes dbt_project.yml's value). A test whose query fails is an `error`
result of its own, as in dbt; each build's results and SQL are written to `<target>/batched_tests.json`.

The SQL is that of the macros: dbt's own not_null, unique, accepted_values, relationships and the project's
tests/generic/accepted_range.sql and unique_combination.sql. The tested model is filtered by the test's `where`
config as `get_where_subquery` does (macros/build_window.sql: `__tests_from__` is the build window's first
day, and with no window the whole `where` is dropped). Only tests with dbt's default fail_calc/warn_if/
error_if, no limit and no stored failures are taken. `dbt build` by hand still runs them all as nodes, and
tests/test_dbt_batched_tests.py checks that both ways count the same failures.

One difference, by design: dbt skips the models downstream of a failing error-severity test, while these run
outside dbt's graph. A failing one still fails the dbt step, so nothing built after it is published.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

TESTS_FROM_PLACEHOLDER = "__tests_from__"
RESULTS_FILE = "batched_tests.json"  # in dbt's target folder, beside run_results.json
STOP_WAIT_SECONDS = 60  # `in_background` closed early: how long its interrupted query may take to stop
_DEFAULTS = {"fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0", "limit": None}
_REF = re.compile(r"""^\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*$""")
_VAR = re.compile(r"""^\s*\{\{\s*var\(\s*['"]([^'"]+)['"]\s*\)\s*\}\}\s*$""")


@dataclass(frozen=True)
class BatchedTest:
    unique_id: str
    name: str
    model: str  # the tested model's unique_id
    parents: tuple[str, ...]  # every node the test reads (a relationships test: the parent model too)
    relation: str  # its relation_name, quoted as dbt renders it
    kind: str  # the generic test: not_null, accepted_range, ...
    kwargs: dict  # its arguments (`model` left out), other relations already resolved
    where: str | None
    severity: str  # "error" or "warn"
    of_view: bool = False  # the tested model is a view: computed again by each query that reads it

    def sql(self, tests_from: str | None) -> str:
        """The failing rows, as the test's macro selects them."""
        return self.sql_reading(_model(self, tests_from))

    def sql_reading(self, tested: str) -> str:
        """The same query on `tested` (a relation, or a subquery with its alias) in place of the tested model."""
        return _SQL[self.kind](tested, **self.kwargs)


@dataclass(frozen=True)
class BatchedTestResult:
    test: BatchedTest
    failures: int | None  # None: the test's query failed (`error`)
    started: datetime  # of the statement that ran it with its model's other tests (UTC)
    finished: datetime
    error: str | None = None  # DuckDB's message when the query failed

    @property
    def status(self) -> str:
        """dbt's status for the test: pass, fail/warn by its severity, or error when its query failed."""
        if self.error is not None:
            return "error"
        return "pass" if not self.failures else ("warn" if self.test.severity == "warn" else "fail")


def batched_tests(manifest: dict, project_vars: dict | None = None) -> dict[str, BatchedTest]:
    """The manifest's generic tests run here rather than by dbt, by unique_id. An argument that is exactly
    `{{ var('name') }}` takes the value of `project_vars` (dbt_project.yml's, `project_vars()`): the daily job
    passes no --vars."""
    tests = {}
    for unique_id, node in manifest["nodes"].items():
        if test := _batched_test(unique_id, node, manifest, project_vars or {}):
            tests[unique_id] = test
    return tests


def excluded_from_dbt(manifest: dict, batched: dict[str, BatchedTest]) -> list[str]:
    """dbt selectors for the batched tests: `test_name:<kind>` when every test of that kind is batched (dbt
    resolves one selector in milliseconds, hundreds of node names take it seconds), else their names."""
    by_kind: dict[str, list[str]] = {}
    for unique_id, node in manifest["nodes"].items():
        kind = (node.get("test_metadata") or {}).get("name")
        if node.get("resource_type") == "test" and kind in _SQL:
            by_kind.setdefault(kind, []).append(unique_id)
    selectors = []
    for kind, unique_ids in sorted(by_kind.items()):
        taken = [batched[u].name for u in unique_ids if u in batched]
        selectors += [f"test_name:{kind}"] if len(taken) == len(unique_ids) else sorted(taken)
    return selectors


def run_batched_tests(con, tests: Iterable[BatchedTest], tests_from: str | None) -> list[BatchedTestResult]:
    """Each test's failure count, one statement per model; `tests_from` (ISO date or None) fills `__tests_from__`."""
    return [result for results in batched_test_results(con, tests, tests_from) for result in results]


def batched_test_results(
    con, tests: Iterable[BatchedTest], tests_from: str | None
) -> Iterator[list[BatchedTestResult]]:
    """`run_batched_tests`, a model's results at a time as soon as its statement ran."""
    by_model: dict[str, list[BatchedTest]] = {}
    for test in sorted(tests, key=lambda t: t.unique_id):
        by_model.setdefault(test.relation, []).append(test)
    for _, model_tests in sorted(by_model.items()):
        started = datetime.now(UTC)
        try:
            row = con.execute(_statement(model_tests, tests_from)).fetchone()
        except duckdb.InterruptException:  # stopped from outside (`in_background`), not a broken query
            raise
        except duckdb.Error:  # one test's query is broken (a renamed column...): each on its own, as dbt would
            yield [_alone(con, test, tests_from) for test in model_tests]
            continue
        finished = datetime.now(UTC)
        yield [BatchedTestResult(t, int(n), started, finished) for t, n in zip(model_tests, row, strict=True)]


_DONE = object()


def in_background(con, results: Iterator[list[BatchedTestResult]]) -> Iterator[list[BatchedTestResult]]:
    """`results` (of `batched_test_results` on `con`) computed on a thread of their own, so that DuckDB runs the
    next model's statement while the caller reports the last model's: the daily job's Dagster events for ~430
    tests cost about as long as their queries (demo 1.0 s and 0.6 s, 300 x 90 ~1.2 s and 1.2-1.8 s). The caller
    must not use `con` meanwhile; closing this iterator early interrupts the running query and waits for it."""
    handed: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def compute() -> None:
        try:
            for part in results:
                if stop.is_set():
                    return
                handed.put(part)
        except BaseException as error:  # raised on the caller's thread
            handed.put(error)
        finally:
            handed.put(_DONE)

    thread = threading.Thread(target=compute, name="dbt-batched-tests", daemon=True)
    thread.start()
    try:
        while (part := handed.get()) is not _DONE:
            if isinstance(part, BaseException):
                raise part
            yield part
    finally:
        stop.set()
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while thread.is_alive() and time.monotonic() < deadline:  # again: one sent just before a statement is lost
            con.interrupt()
            thread.join(0.05)
        if thread.is_alive():  # the connection must not be closed under it
            raise RuntimeError(f"a batched test query did not stop within {STOP_WAIT_SECONDS} s of its interrupt")


def failed_tests(results: Iterable[BatchedTestResult]) -> list[str]:
    """The tests that failed (a warning is not a failure), as `dbt_invocation.failed_nodes` names dbt's."""
    return [
        f"{r.test.unique_id}: fail {r.failures} row(s)" if r.error is None else f"{r.test.unique_id}: error {r.error}"
        for r in results
        if r.status in ("fail", "error")
    ]


def write_results(target: Path, results: list[BatchedTestResult], tests_from: str | None) -> Path:
    """`<target>/batched_tests.json`: each test run here, with its status, failures and its SQL, as dbt's
    run_results.json and compiled SQL tell for its own nodes. The SQL is the test's own query, which counts what
    its part of the model's statement counted (there, a view's tests may read it once: `_statement`)."""
    path = Path(target) / RESULTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [
        {"unique_id": r.test.unique_id, "status": r.status, "failures": r.failures, "message": r.error,
         "started_at": r.started.isoformat(), "completed_at": r.finished.isoformat(), "sql": r.test.sql(tests_from)}
        for r in results
    ]  # fmt: skip
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps({"tests_from": tests_from, "results": entries}, indent=1))
    temporary.replace(path)
    return path


def _statement(tests: list[BatchedTest], tests_from: str | None) -> str:
    """One row of failure counts, one column per test. The tests of a view read it once, from a materialized CTE:
    else DuckDB computes the view again for each of them. Same rows, read in the same statement, so the same
    counts. Done when they read it through the same filter (the tests' `where` with this window) and are at least
    `_VIEW_ONCE_FROM`: storing the view costs more than computing a plain one twice (4M rows, 2 tests: 0.39 s plain,
    0.67 s once). Every view of this project has 3 or more: a 100 x 60 warehouse's view tests took 1.07-1.72 s and
    0.98-1.10 s with a window, 0.59-0.66 s and 0.51-0.59 s once, none of the 30 views slower."""
    tested = {_model(t, tests_from) for t in tests}
    if len(tests) >= _VIEW_ONCE_FROM and len(tested) == 1 and all(t.of_view for t in tests):
        counts = ",\n".join(f"(select count(*) from ({t.sql_reading(_VIEW_ONCE)}) dbt_internal_test)" for t in tests)
        return f"with {_VIEW_ONCE} as materialized (select * from {tested.pop()})\nselect\n{counts}"
    counts = ",\n".join(f"(select count(*) from ({t.sql(tests_from)}) dbt_internal_test)" for t in tests)
    return f"select\n{counts}"


_VIEW_ONCE_FROM = 3
_VIEW_ONCE = "dbt_tested_view"


def _alone(con, test: BatchedTest, tests_from: str | None) -> BatchedTestResult:
    started = datetime.now(UTC)
    try:
        (failures,) = con.execute(_statement([test], tests_from)).fetchone()
    except duckdb.Error as error:
        return BatchedTestResult(test, None, started, datetime.now(UTC), error=str(error).splitlines()[0])
    return BatchedTestResult(test, int(failures), started, datetime.now(UTC))


def _not_null(model: str, column_name: str) -> str:
    return f"select {column_name}\nfrom {model}\nwhere {column_name} is null"


def _accepted_range(model: str, column_name: str, min_value=None, max_value=None) -> str:
    bounds = [f"{column_name} < {min_value}"] if min_value is not None else []
    bounds += [f"{column_name} > {max_value}"] if max_value is not None else []
    return f"select {column_name}\nfrom {model}\nwhere {' or '.join(bounds) or 'false'}"


def _unique(model: str, column_name: str) -> str:
    return (
        f"select {column_name} as unique_field, count(*) as n_records\nfrom {model}\n"
        f"where {column_name} is not null\ngroup by {column_name}\nhaving count(*) > 1"
    )


def _unique_combination(model: str, combination_of_columns: list[str]) -> str:
    columns = ", ".join(combination_of_columns)
    return f"select {columns}, count(*) as row_count\nfrom {model}\ngroup by {columns}\nhaving count(*) > 1"


def _accepted_values(model: str, column_name: str, values: list, quote: bool = True) -> str:
    listed = ",".join(f"'{value}'" if quote else f"{value}" for value in values)  # unescaped, as dbt's macro
    return (
        f"select * from (\n    select {column_name} as value_field, count(*) as n_records\n    from {model}\n"
        f"    group by {column_name}\n) all_values\nwhere value_field not in ({listed})"
    )


def _relationships(model: str, column_name: str, to: str, field: str) -> str:
    return (
        f"with child as (select {column_name} as from_field from {model} where {column_name} is not null),\n"
        f"parent as (select {field} as to_field from {to})\n"
        "select from_field\nfrom child\nleft join parent on child.from_field = parent.to_field\n"
        "where parent.to_field is null"
    )


_SQL = {
    "not_null": _not_null,
    "accepted_range": _accepted_range,
    "unique": _unique,
    "unique_combination": _unique_combination,
    "accepted_values": _accepted_values,
    "relationships": _relationships,
}
_ARGUMENTS = {
    "not_null": {"column_name"},
    "accepted_range": {"column_name", "min_value", "max_value"},
    "unique": {"column_name"},
    "unique_combination": {"combination_of_columns"},
    "accepted_values": {"column_name", "values", "quote"},
    "relationships": {"column_name", "to", "field"},
}


def _batched_test(unique_id: str, node: dict, manifest: dict, variables: dict) -> BatchedTest | None:
    metadata = node.get("test_metadata") or {}
    config = node.get("config") or {}
    kind = metadata.get("name")
    model_id = node.get("attached_node")
    if (
        node.get("resource_type") != "test"
        or kind not in _SQL
        or metadata.get("namespace")
        or not (model_id or "").startswith("model.")
        or any(config.get(key) != value for key, value in _DEFAULTS.items())
        or config.get("store_failures")
    ):
        return None
    kwargs = {key: _var(value, variables) for key, value in (metadata.get("kwargs") or {}).items() if key != "model"}
    if set(kwargs) - _ARGUMENTS[kind] or _is_template(config.get("where")) or any(map(_is_template, kwargs.values())):
        return None  # an argument dbt renders at run time, other than a plain var: dbt runs it
    if kind == "relationships":
        kwargs["to"] = _relation_of_ref(kwargs.get("to"), manifest)
        if kwargs["to"] is None:
            return None
    return BatchedTest(
        unique_id=unique_id,
        name=node["name"],
        model=model_id,
        parents=tuple(node.get("depends_on", {}).get("nodes", [])),
        relation=manifest["nodes"][model_id]["relation_name"],
        kind=kind,
        kwargs=kwargs,
        where=config.get("where"),
        severity=str(config.get("severity") or "error").lower(),
        of_view=(manifest["nodes"][model_id].get("config") or {}).get("materialized") == "view",
    )


def _relation_of_ref(to, manifest: dict) -> str | None:
    """`ref('name')` → that model's relation; anything else (a source, a version) → None: dbt runs the test."""
    match = _REF.match(to) if isinstance(to, str) else None
    if not match:
        return None
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == match[1]]
    return models[0]["relation_name"] if len(models) == 1 else None


def _model(test: BatchedTest, tests_from: str | None) -> str:
    """The tested relation, filtered by the test's `where` as `get_where_subquery` filters it."""
    where = test.where
    if where and TESTS_FROM_PLACEHOLDER in where:
        if not tests_from:
            return test.relation
        where = where.replace(TESTS_FROM_PLACEHOLDER, f"cast('{tests_from}' as date)")
    return f"(select * from {test.relation} where {where}) dbt_subquery" if where else test.relation


def _var(value, variables: dict):
    """`{{ var('name') }}` → the var's value (a number or text, as dbt renders it); anything else as it is."""
    match = _VAR.match(value) if isinstance(value, str) else None
    if match and isinstance(variables.get(match[1]), int | float | str) and not isinstance(variables[match[1]], bool):
        return variables[match[1]]
    return value


def _is_template(value) -> bool:
    if isinstance(value, list | tuple):
        return any(map(_is_template, value))
    return isinstance(value, str) and ("{{" in value or "{%" in value)
