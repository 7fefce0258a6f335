"""dbt's column tests (`not_null`, `accepted_range`) run as one query per model instead of one dbt node each.

The project declares ~350 of them in its YAML, next to the columns they guard, and dbt runs each as a node of
its own: compile, a query, artifacts, ~20 ms of dbt per test, more than half of a full build. The daily job
runs the same tests, declared the same way, as one `count(*) filter (where …)` per test in a single query per
model, after dbt built the models; dbt runs every other test itself. The results are reported as the same
dbt test results (same names, status, failure counts), so Dagster shows the same asset checks.

The semantics are those of the macros: `not_null` fails rows where the column is null; `accepted_range`
(tests/generic/accepted_range.sql) fails non-null values below min_value or above max_value; a test's
`where` config filters the rows first, `__tests_from__` as in `get_where_subquery` (macros/build_window.sql):
with no window the whole `where` is dropped. Only tests in dbt's defaults otherwise (count(*), != 0, no
limit, no stored failures) and with plain values (no `{{ var(...) }}`) are taken; any other stays a dbt
node. `dbt build` by hand still runs them all, and tests/test_dbt_column_tests.py checks that both ways give
the same failures.

One difference, by design: dbt skips the models downstream of a failing error-severity test, while these run
after the build. A failing column test still fails the dbt step, so nothing built after it is published.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

BATCHED_TESTS = ("not_null", "accepted_range")
TESTS_FROM_PLACEHOLDER = "__tests_from__"
_DEFAULTS = {"fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0", "limit": None}


@dataclass(frozen=True)
class ColumnTest:
    unique_id: str
    name: str
    model: str  # the model's unique_id
    relation: str  # its relation_name, quoted as dbt renders it
    condition: str  # SQL true for a failing row
    where: str | None
    severity: str  # "error" or "warn"


@dataclass(frozen=True)
class ColumnTestResult:
    test: ColumnTest
    failures: int
    started: datetime  # of the query that ran it with its model's other tests (UTC)
    finished: datetime

    @property
    def status(self) -> str:
        """dbt's status for the test: pass, or fail/warn by its severity."""
        return "pass" if not self.failures else ("warn" if self.test.severity == "warn" else "fail")


def batched_tests(manifest: dict) -> dict[str, ColumnTest]:
    """The manifest's column tests run here rather than by dbt, by unique_id."""
    tests = {}
    for unique_id, node in manifest["nodes"].items():
        if test := _column_test(unique_id, node, manifest):
            tests[unique_id] = test
    return tests


def run_column_tests(con, tests: Iterable[ColumnTest], tests_from: str | None) -> list[ColumnTestResult]:
    """Each test's failing rows, one query per model; `tests_from` (ISO date or None) fills `__tests_from__`."""
    by_model: dict[str, list[ColumnTest]] = {}
    for test in sorted(tests, key=lambda t: t.unique_id):
        by_model.setdefault(test.relation, []).append(test)
    results = []
    for relation, model_tests in sorted(by_model.items()):
        counts = ",\n    ".join(
            f"count(*) filter (where ({_where(t, tests_from)}) and ({t.condition}))" for t in model_tests
        )
        started = datetime.now(UTC)
        row = con.execute(f"select\n    {counts}\nfrom {relation}").fetchone()
        finished = datetime.now(UTC)
        results += [ColumnTestResult(t, int(n), started, finished) for t, n in zip(model_tests, row, strict=True)]
    return results


def _column_test(unique_id: str, node: dict, manifest: dict) -> ColumnTest | None:
    metadata = node.get("test_metadata") or {}
    config = node.get("config") or {}
    parents = node.get("depends_on", {}).get("nodes", [])
    if (
        node.get("resource_type") != "test"
        or metadata.get("name") not in BATCHED_TESTS
        or metadata.get("namespace")
        or len(parents) != 1
        or not parents[0].startswith("model.")
        or any(config.get(key) != value for key, value in _DEFAULTS.items())
        or config.get("store_failures")
    ):
        return None
    kwargs = metadata.get("kwargs") or {}
    column = kwargs.get("column_name")
    if not column or set(kwargs) - {"column_name", "model", "min_value", "max_value"}:
        return None
    if any(_is_template(value) for key, value in kwargs.items() if key != "model") or _is_template(config.get("where")):
        return None  # rendered by dbt at run time (a var): dbt runs it
    model = manifest["nodes"][parents[0]]
    return ColumnTest(
        unique_id=unique_id,
        name=node["name"],
        model=parents[0],
        relation=model["relation_name"],
        condition=_condition(metadata["name"], column, kwargs.get("min_value"), kwargs.get("max_value")),
        where=config.get("where"),
        severity=str(config.get("severity") or "error").lower(),
    )


def _condition(test: str, column: str, min_value, max_value) -> str:
    if test == "not_null":
        return f"{column} is null"
    bounds = [f"{column} < {min_value}"] if min_value is not None else []
    bounds += [f"{column} > {max_value}"] if max_value is not None else []
    return " or ".join(bounds) or "false"  # null compares to null: a null value passes, as in the macro


def _where(test: ColumnTest, tests_from: str | None) -> str:
    if not test.where:
        return "true"
    if TESTS_FROM_PLACEHOLDER in test.where:
        if not tests_from:
            return "true"
        return test.where.replace(TESTS_FROM_PLACEHOLDER, f"cast('{tests_from}' as date)")
    return test.where


def _is_template(value) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)
