"""The column tests the daily job runs as one query per model (lib/core/dbt_column_tests.py) fail exactly where
dbt's own `not_null` / `accepted_range` nodes fail, and reach Dagster as the same asset checks."""

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.dbt import LayeredTranslator, exclude_nodes
from orchestration.defs.dbt_run import DbtRun
from orchestration.devtools.demo import generate_demo_inbox
from orchestration.lib.core.dbt_column_tests import ColumnTest, batched_tests, run_column_tests
from orchestration.lib.core.dbt_manifest import manifest_path
from orchestration.lib.core.warehouse import connect
from tests.dbt_runner import run_results
from tests.studio_fixtures import land, new_paths


def _test(name: str, condition: str, where: str | None = None, severity: str = "error") -> ColumnTest:
    return ColumnTest(f"test.p.{name}", name, "model.p.m", "m", condition, where, severity)


def test_counts_follow_the_macros_on_rows_worked_out_by_hand():
    con = duckdb.connect()
    rows = "(1, -1, date '2026-01-01'), (2, 0, date '2026-01-02'), (3, 24, date '2026-01-03'), (4, null, null)"
    con.execute(
        f"create table m as select * from (values {rows}, (5, 23, date '2026-01-05'), (6, 30, null)) t(id, hour, day)"
    )
    manifest = {"nodes": {"model.p.m": {"relation_name": "m", "resource_type": "model"}}}
    for name, kwargs, config in [
        ("nn", {"column_name": "hour"}, {}),
        ("range", {"column_name": "hour", "min_value": 0, "max_value": 23}, {}),
        ("min", {"column_name": "hour", "min_value": 0}, {"severity": "warn"}),
        ("windowed", {"column_name": "hour", "min_value": 0, "max_value": 23},
         {"where": "day is null or day >= __tests_from__"}),
    ]:  # fmt: skip
        manifest["nodes"][f"test.p.{name}"] = {
            "resource_type": "test", "name": name, "depends_on": {"nodes": ["model.p.m"]},
            "test_metadata": {"name": "not_null" if name == "nn" else "accepted_range", "kwargs": kwargs},
            "config": {"severity": "ERROR", "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0",
                       "limit": None, **config},
        }  # fmt: skip
    tests = batched_tests(manifest)
    everything = {r.test.name: (r.failures, r.status) for r in run_column_tests(con, tests.values(), None)}
    # hour: -1, 0, 24, null, 23, 30 → one null; -1, 24 and 30 outside 0..23; only -1 below 0 (a warning)
    assert everything == {"nn": (1, "fail"), "range": (3, "fail"), "min": (1, "warn"), "windowed": (3, "fail")}
    # from 3 January on: 24 (3 Jan) and 30 (no day: always tested) fail; -1 (1 Jan) is outside the window
    windowed = run_column_tests(con, [tests["test.p.windowed"]], "2026-01-03")
    assert [r.failures for r in windowed] == [2]


def test_templated_and_non_default_tests_stay_with_dbt():
    manifest = json.loads(manifest_path().read_text())
    tests = batched_tests(manifest)
    names = {t.name for t in tests.values()}
    assert "not_null_fct_account_overview_daily_metric_date" in names
    assert not any("var_max_engagement_rate" in name or "var_trending_top_n" in name for name in names)
    assert not any(n.startswith(("unique", "relationships", "accepted_values")) for n in names)


@pytest.fixture(scope="module")
def tampered_demo(tmp_path_factory, dbt):
    """The demo's Studio files built by dbt, then rows of its tables broken so that many column tests fail."""
    root = tmp_path_factory.mktemp("column-tests")
    paths = new_paths(root)
    generate_demo_inbox(paths.inbox, live=False)
    land(paths)
    dbt(paths, ["run"], root / "build")
    manifest = json.loads(manifest_path().read_text())
    tests = batched_tests(manifest)
    with connect(paths.warehouse) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        for i, test in enumerate(sorted(tests.values(), key=lambda t: t.unique_id)):
            model = manifest["nodes"][test.model]
            column = manifest["nodes"][test.unique_id]["column_name"]
            kwargs = manifest["nodes"][test.unique_id]["test_metadata"]["kwargs"]
            if model["alias"] not in tables:
                continue  # a view: its table upstream is broken instead, or it stays clean
            if "min_value" in kwargs:
                broken = f"{kwargs['min_value']} - 1"
            elif "max_value" in kwargs:
                broken = f"{kwargs['max_value']} + 1"
            else:
                broken = "null"
            con.execute(f"update {test.relation} set {column} = {broken} where rowid % 5 = {i % 5}")
    return paths, tests, root


@pytest.mark.parametrize("tests_from", [None, "2026-01-20"])
def test_same_failures_as_dbt_on_a_broken_warehouse(tampered_demo, dbt, tests_from):
    paths, tests, root = tampered_demo
    target = root / f"test-{tests_from}"
    env = {"TIKTOK_DBT_TESTS_FROM": tests_from or ""}
    names = " ".join(sorted(t.name for t in tests.values()))
    dbt.invoke(paths.root, ["test", "--select", names], target, env)
    by_dbt = {r["unique_id"]: r["failures"] for r in run_results(target)}
    with connect(paths.warehouse, read_only=True) as con:
        ours = {r.test.unique_id: r.failures for r in run_column_tests(con, tests.values(), tests_from)}
    assert set(by_dbt) == set(tests)
    assert ours == by_dbt
    assert sum(1 for n in ours.values() if n) > 50, "the tampering no longer breaks enough tests to compare"


def test_excluded_names_join_the_one_exclude_flag():
    assert exclude_nodes(["build"], []) == ["build"]
    assert exclude_nodes(["build"], ["a", "b"]) == ["build", "--exclude", "a b"]
    args = ["build", "--exclude", "x y", "--indirect-selection", "empty"]
    assert exclude_nodes(args, ["a"]) == ["build", "--exclude", "x y a", "--indirect-selection", "empty"]


def test_a_column_test_reaches_dagster_as_the_asset_check_dbt_would_give(tmp_path):
    manifest = json.loads(manifest_path().read_text())
    tests = batched_tests(manifest)
    test = tests[next(u for u, t in tests.items() if t.name == "not_null_fct_account_overview_daily_metric_date")]
    warn = next(t for t in tests.values() if t.severity == "warn")
    con = duckdb.connect()
    con.execute("create schema marts; create table marts.fct_account_overview_daily (metric_date date)")
    con.execute("insert into marts.fct_account_overview_daily values (null), ('2026-01-01'), (null)")
    failed = run_column_tests(con, [ColumnTest(**{**test.__dict__, "relation": "marts.fct_account_overview_daily"})],
                              None)  # fmt: skip
    warned = [r.__class__(warn, 3, r.started, r.finished) for r in failed]  # three rows below the minimum: a warning
    run = DbtRun(Path(tmp_path), ["build"], Path(tmp_path), {})
    events = list(run.stream_column_tests(failed + warned, None, manifest, LayeredTranslator(), None))
    assert [type(e) for e in events] == [dg.AssetCheckEvaluation, dg.AssetCheckEvaluation]
    first, second = events
    assert (first.check_name, first.asset_key, first.passed, first.severity) == (
        test.name, dg.AssetKey(["marts", "fct_account_overview_daily"]), False, dg.AssetCheckSeverity.ERROR
    )  # fmt: skip
    assert first.metadata["dagster_dbt/failed_row_count"].value == 2
    assert (second.check_name, second.passed, second.severity) == (warn.name, False, dg.AssetCheckSeverity.WARN)
    assert run.column_failures == [f"{test.unique_id}: fail 2 row(s)"]
