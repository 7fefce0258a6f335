"""The generic tests the daily job runs as one statement per model (lib/core/dbt_batched_tests.py) fail exactly
where dbt's own test nodes fail, and reach Dagster as the same asset checks."""

import json
import re
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.dbt import LayeredTranslator, exclude_nodes
from orchestration.defs.dbt_run import DbtRun
from orchestration.devtools.demo import generate_demo_inbox
from orchestration.lib.core.dbt_batched_tests import (
    TESTS_FROM_PLACEHOLDER,
    _statement,
    batched_test_results,
    batched_tests,
    excluded_from_dbt,
    in_background,
    run_batched_tests,
    write_results,
)
from orchestration.lib.core.dbt_invocation import BuildOutcome
from orchestration.lib.core.dbt_manifest import manifest_path
from orchestration.lib.core.dbt_vars import project_vars
from orchestration.lib.core.warehouse import connect
from tests.dbt_runner import run_results
from tests.studio_fixtures import land, new_paths


def _manifest(tests: list[tuple[str, str, dict, dict]], materialized: str = "table") -> dict:
    """Models m (id, hour, day, kind) and parent p (id); tests as (name, generic test, kwargs, config)."""
    nodes = {"model.p.m": {"relation_name": "m", "resource_type": "model", "name": "m",
                           "config": {"materialized": materialized}},
             "model.p.p": {"relation_name": "p", "resource_type": "model", "name": "p"}}  # fmt: skip
    for name, kind, kwargs, config in tests:
        nodes[f"test.p.{name}"] = {
            "resource_type": "test", "name": name, "attached_node": "model.p.m",
            "depends_on": {"nodes": ["model.p.m", "model.p.p"] if kind == "relationships" else ["model.p.m"]},
            "test_metadata": {"name": kind, "kwargs": {**kwargs, "model": "{{ get_where_subquery(ref('m')) }}"}},
            "config": {"severity": "ERROR", "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0",
                       "limit": None, **config},
        }  # fmt: skip
    return {"nodes": nodes}


@pytest.mark.parametrize("materialized", ["table", "view"])
def test_counts_follow_the_macros_on_rows_worked_out_by_hand(materialized):
    con = duckdb.connect()
    con.execute("""create table m_rows as select * from (values
        (1, -1, date '2026-01-01', 'a'), (2, 0, date '2026-01-02', 'b'), (3, 24, date '2026-01-03', 'a'),
        (4, null, null, 'zz'), (5, 23, date '2026-01-05', null), (5, 30, null, 'zz')) t(id, hour, day, kind)""")
    con.execute(f"create {materialized} m as select * from m_rows")
    con.execute("create table p as select * from (values (1), (2), (3), (3)) t(id)")
    window = {"where": "day is null or day >= __tests_from__"}
    tests = batched_tests(_manifest([
        ("nn", "not_null", {"column_name": "hour"}, {}),
        ("range", "accepted_range", {"column_name": "hour", "min_value": 0, "max_value": 23}, {}),
        ("min", "accepted_range", {"column_name": "hour", "min_value": 0}, {"severity": "warn"}),
        ("windowed", "accepted_range", {"column_name": "hour", "min_value": 0, "max_value": 23}, window),
        ("uniq", "unique", {"column_name": "id"}, {}),
        ("grain", "unique_combination", {"combination_of_columns": ["id", "kind"]}, {}),
        ("kinds", "accepted_values", {"column_name": "kind", "values": ["a", "b"]}, {}),
        ("parent", "relationships", {"column_name": "id", "to": "ref('p')", "field": "id"}, {}),
    ], materialized))  # fmt: skip
    # a view's tests read it once (a materialized CTE), a table's each read it; the counts are the same
    statement = _statement(sorted(tests.values(), key=lambda t: t.unique_id), None)
    assert len(re.findall(r"\bfrom m\b", statement)) == (1 if materialized == "view" else 8)
    everything = {r.test.name: (r.failures, r.status) for r in run_batched_tests(con, tests.values(), None)}
    assert everything == {
        "nn": (1, "fail"),  # hour: -1, 0, 24, null, 23, 30 → one null
        "range": (3, "fail"),  # -1, 24 and 30 outside 0..23
        "min": (1, "warn"),  # only -1 below 0: a warning
        "windowed": (3, "fail"),  # no window: every row
        "uniq": (1, "fail"),  # id 5 twice: one duplicated value
        "grain": (0, "pass"),  # (5, null) and (5, 'zz') differ
        "kinds": (1, "fail"),  # 'zz' (twice, one group); a null kind is not counted (null not in (...))
        "parent": (3, "fail"),  # ids 4, 5 and 5 have no parent row (3 has two: no failure)
    }
    # from 3 January on: 24 (3 Jan) and 30 (no day: always tested) fail; -1 (1 Jan) is outside the window
    windowed = run_batched_tests(con, [tests["test.p.windowed"]], "2026-01-03")
    assert [r.failures for r in windowed] == [2]


def test_a_views_tests_read_it_once_through_their_window_and_a_broken_one_errors_alone():
    con = duckdb.connect()
    con.execute("""create table m_rows as select * from (values
        (1, -1, date '2026-01-01'), (2, null, date '2026-01-02'), (2, 24, date '2026-01-03'), (3, null, null))
        t(id, hour, day)""")
    con.execute("create view m as select * from m_rows")
    window = {"where": "day is null or day >= __tests_from__"}
    tests = batched_tests(_manifest([
        ("nn", "not_null", {"column_name": "hour"}, window),
        ("range", "accepted_range", {"column_name": "hour", "min_value": 0, "max_value": 23}, window),
        ("uniq", "unique", {"column_name": "id"}, window),
    ], "view"))  # fmt: skip
    ordered = sorted(tests.values(), key=lambda t: t.unique_id)
    assert _statement(ordered, "2026-01-02").startswith(
        "with dbt_tested_view as materialized (select * from (select * from m where day is null or day >= cast("
    )
    # from 2 January on: (2, null), (2, 24) and (3, null: no day, always tested)
    windowed = {r.test.name: r.failures for r in run_batched_tests(con, ordered, "2026-01-02")}
    assert windowed == {"nn": 2, "range": 1, "uniq": 1}
    # no window: every row; -1 and 24 outside 0..23
    assert {r.test.name: r.failures for r in run_batched_tests(con, ordered, None)} == {"nn": 2, "range": 2, "uniq": 1}
    # two tests of a view: each reads it (storing it would cost more than computing it twice)
    assert not _statement(ordered[:2], None).startswith("with")
    broken = replace(tests["test.p.nn"], unique_id="test.p.broken", name="broken", kwargs={"column_name": "nope"})
    results = {r.test.name: (r.failures, r.status) for r in run_batched_tests(con, [*ordered, broken], "2026-01-02")}
    assert results == {"broken": (None, "error"), "nn": (2, "fail"), "range": (1, "fail"), "uniq": (1, "fail")}


def test_results_computed_in_the_background_are_those_computed_here_a_model_at_a_time():
    con = duckdb.connect()
    con.execute("create table m as select * from (values (1, 5), (2, null), (2, 7)) t(id, hour)")
    con.execute("create table p as select * from (values (1), (3), (3)) t(id)")
    tests = batched_tests(_manifest([
        ("nn", "not_null", {"column_name": "hour"}, {}),
        ("uniq", "unique", {"column_name": "id"}, {}),
        ("broken", "not_null", {"column_name": "no_such_column"}, {}),
    ]))  # fmt: skip
    # the same unique test on p: a second model, so a second statement (id 3 twice: one failure)
    tests["test.p.uniq_p"] = replace(tests["test.p.uniq"], unique_id="test.p.uniq_p", name="uniq_p", relation="p")
    here = [(r.test.name, r.failures, r.status) for r in run_batched_tests(con, tests.values(), None)]
    # m's statement fails on the missing column, so its tests run alone: nn 1 (one null hour), uniq 1 (id 2 twice)
    assert here == [("broken", None, "error"), ("nn", 1, "fail"), ("uniq", 1, "fail"), ("uniq_p", 1, "fail")]
    parts = list(in_background(con, batched_test_results(con, tests.values(), None)))
    assert [[(r.test.name, r.failures, r.status) for r in part] for part in parts] == [here[:3], here[3:]]


def test_closing_the_background_results_early_interrupts_the_running_statement():
    con = duckdb.connect()
    interrupted = []

    def results():
        yield ["first model's results"]
        try:  # minutes of work unless interrupted
            con.execute("select count(*) from range(1000000000000) t(i) where i % 7 = 3").fetchone()
        except duckdb.InterruptException:
            interrupted.append(True)
            raise
        yield ["never reached"]

    parts = in_background(con, results())
    assert next(parts) == ["first model's results"]
    parts.close()  # the caller stops (Ctrl-C, a failed step): the query is interrupted and its thread waited for
    assert interrupted == [True]


def test_a_query_that_does_not_stop_is_not_waited_for_forever(monkeypatch):
    import threading

    from orchestration.lib.core import dbt_batched_tests

    monkeypatch.setattr(dbt_batched_tests, "STOP_WAIT_SECONDS", 0.2)
    released = threading.Event()

    class Deaf:  # a connection whose statement ignores interrupts
        def interrupt(self):
            pass

    def results():
        yield ["first"]
        released.wait(10)
        yield ["late"]

    parts = in_background(Deaf(), results())
    assert next(parts) == ["first"]
    with pytest.raises(RuntimeError, match="did not stop within 0.2 s"):
        parts.close()  # the caller learns it after STOP_WAIT_SECONDS instead of waiting forever
    released.set()


def test_an_error_computing_in_the_background_is_raised_to_the_caller():
    def results():
        yield ["first"]
        raise RuntimeError("the warehouse went away")

    parts = in_background(duckdb.connect(), results())
    assert next(parts) == ["first"]
    with pytest.raises(RuntimeError, match="the warehouse went away"):
        next(parts)


def test_which_tests_are_batched_and_how_dbt_leaves_them_out(dbt_manifest):
    manifest = json.loads(dbt_manifest.read_text())
    generic = [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and n.get("test_metadata")]
    sums = [n for n in generic if n["test_metadata"]["name"] == "shares_sum_to_at_most"]
    with_var = [n["unique_id"] for n in generic if "var(" in json.dumps(n["test_metadata"]["kwargs"])]
    assert len(with_var) == 4 and len(sums) == 4
    batched = batched_tests(manifest, project_vars())
    assert set(batched) == {n["unique_id"] for n in generic} - {n["unique_id"] for n in sums}
    # {{ var('max_engagement_rate') }} is dbt_project.yml's 10; without the project's vars dbt keeps those four
    rate = next(t for u, t in batched.items() if u in with_var and "engagement_rate" in t.kwargs["column_name"])
    assert rate.kwargs["max_value"] == 10
    assert set(batched_tests(manifest)) == set(batched) - set(with_var)
    # every test of each batched kind is batched: one selector per kind, not 428 names
    kinds = ["accepted_range", "accepted_values", "not_null", "relationships", "unique", "unique_combination"]
    assert excluded_from_dbt(manifest, batched) == [f"test_name:{kind}" for kind in kinds]
    partial = excluded_from_dbt(manifest, batched_tests(manifest))
    assert "test_name:not_null" in partial and "test_name:accepted_range" not in partial
    ranges = sum(1 for n in generic if n["test_metadata"]["name"] == "accepted_range")
    assert len(partial) == 5 + ranges - len(with_var)  # the other kinds, then the batched accepted_range tests by name
    config = {"severity": "ERROR", "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0", "limit": None}
    for changed in ({"fail_calc": "sum(n)"}, {"limit": 10}, {"store_failures": True}):
        node = _manifest([("t", "not_null", {"column_name": "id"}, {**config, **changed})])
        assert batched_tests(node) == {}, changed


@pytest.fixture(scope="module")
def tampered_demo(tmp_path_factory, dbt):
    """The demo's Studio files built by dbt, then rows of its tables broken so that many of its tests fail."""
    root = tmp_path_factory.mktemp("batched-tests")
    paths = new_paths(root)
    generate_demo_inbox(paths.inbox, live=False)
    land(paths)
    dbt(paths, ["run"], root / "build")
    manifest = json.loads(manifest_path().read_text())
    tests = batched_tests(manifest, project_vars())
    with connect(paths.warehouse) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        for i, test in enumerate(sorted(tests.values(), key=lambda t: t.unique_id)):
            if manifest["nodes"][test.model]["alias"] not in tables:
                continue  # a view: its table upstream is broken instead, or it stays clean
            picked = f"rowid % 5 = {i % 5}"
            column, kwargs = test.kwargs.get("column_name"), test.kwargs
            if test.kind in ("unique", "unique_combination"):  # duplicate some rows, the first one at least (a table
                # of 3 rows, dim_accounts, has none with rowid % 5 = 3)
                con.execute(f"insert into {test.relation} select * from {test.relation} where {picked} or rowid = 0")
                continue
            broken = {"not_null": "null", "accepted_values": "'zz_unexpected'", "relationships": "'zz_orphan'"}.get(
                test.kind,
                f"{kwargs.get('min_value')} - 1" if "min_value" in kwargs else f"{kwargs.get('max_value')} + 1",
            )
            con.execute(f"update {test.relation} set {column} = {broken} where {picked}")
    return paths, tests, root


@pytest.mark.parametrize("tests_from", [None, "2026-01-20"])
def test_same_failures_as_dbt_on_a_broken_warehouse(tampered_demo, dbt, tests_from):
    paths, tests, root = tampered_demo
    if tests_from:  # only a test whose `where` holds the placeholder reads the window (_model, build_window.sql)
        tests = {u: t for u, t in tests.items() if t.where and TESTS_FROM_PLACEHOLDER in t.where}
    target = root / f"test-{tests_from}"
    env = {"TIKTOK_DBT_TESTS_FROM": tests_from or ""}
    names = " ".join(sorted(t.name for t in tests.values()))
    dbt.invoke(paths.root, ["test", "--select", names], target, env)
    by_dbt = {r["unique_id"]: r["failures"] for r in run_results(target)}
    with connect(paths.warehouse, read_only=True) as con:
        ours = {r.test.unique_id: r.failures for r in run_batched_tests(con, tests.values(), tests_from)}
        unwindowed = {r.test.unique_id: r.failures for r in run_batched_tests(con, tests.values(), None)}
    assert set(by_dbt) == set(tests)
    assert ours == by_dbt
    broken = {tests[u].kind for u, n in ours.items() if n}
    if tests_from:  # the window leaves out some broken rows: fewer failures for some tests, never more
        assert len(tests) >= 10 and all(ours[u] <= unwindowed[u] for u in tests)
        assert sum(ours.values()) < sum(unwindowed.values()) and broken, "the window no longer changes a verdict"
    else:
        assert sum(1 for n in ours.values() if n) > 50 and len(broken) == 6, "the tampering no longer breaks enough"


def test_batched_tests_join_the_one_exclude_flag():
    assert exclude_nodes(["build"], []) == ["build"]
    assert exclude_nodes(["build"], ["test_name:unique"]) == ["build", "--exclude", "test_name:unique"]
    args = ["build", "--exclude", "m1 t1 t2", "--indirect-selection", "empty"]
    assert exclude_nodes(args, ["test_name:unique"], drop={"t1"}) == [
        "build", "--exclude", "m1 t2 test_name:unique", "--indirect-selection", "empty"
    ]  # fmt: skip


def test_a_batched_test_reaches_dagster_as_the_asset_check_dbt_would_give(tmp_path, dbt_manifest):
    manifest = json.loads(dbt_manifest.read_text())
    tests = batched_tests(manifest)
    test = tests[next(u for u, t in tests.items() if t.name == "not_null_fct_account_overview_daily_metric_date")]
    warn = next(t for t in tests.values() if t.severity == "warn")
    con = duckdb.connect()
    con.execute("create schema marts; create table marts.fct_account_overview_daily (metric_date date)")
    con.execute("insert into marts.fct_account_overview_daily values (null), ('2026-01-01'), (null)")
    failed = run_batched_tests(con, [replace(test, relation="marts.fct_account_overview_daily")], None)
    warned = [r.__class__(warn, 3, r.started, r.finished) for r in failed]  # three rows below the minimum: a warning
    run = DbtRun(Path(tmp_path), ["build"], Path(tmp_path), {})
    events = list(run.stream_batched_tests(failed + warned, None, manifest, LayeredTranslator(), None))
    assert [type(e) for e in events] == [dg.AssetCheckEvaluation, dg.AssetCheckEvaluation]
    first, second = events
    assert (first.check_name, first.asset_key, first.passed, first.severity) == (
        test.name, dg.AssetKey(["marts", "fct_account_overview_daily"]), False, dg.AssetCheckSeverity.ERROR
    )  # fmt: skip
    assert first.metadata["dagster_dbt/failed_row_count"].value == 2
    assert (second.check_name, second.passed, second.severity) == (warn.name, False, dg.AssetCheckSeverity.WARN)
    assert run.batched_failures == [f"{test.unique_id}: fail 2 row(s)"]


def test_a_broken_query_is_that_test_s_error_and_its_model_s_other_tests_still_count(tmp_path):
    con = duckdb.connect()
    con.execute("create table m as select * from (values (1, null), (2, 5)) t(id, hour)")
    tests = batched_tests(_manifest([
        ("nn", "not_null", {"column_name": "hour"}, {}),
        ("renamed", "not_null", {"column_name": "minute"}, {}),  # a column the model no longer has
    ]))  # fmt: skip
    results = {r.test.name: r for r in run_batched_tests(con, tests.values(), None)}
    assert (results["nn"].failures, results["nn"].status) == (1, "fail")
    assert (results["renamed"].failures, results["renamed"].status) == (None, "error")
    assert "minute" in results["renamed"].error
    written = json.loads(write_results(tmp_path, list(results.values()), None).read_text())
    assert [(e["unique_id"], e["status"], e["failures"]) for e in written["results"]] == [
        ("test.p.nn", "fail", 1), ("test.p.renamed", "error", None)
    ]  # fmt: skip
    assert written["results"][0]["sql"] == "select hour\nfrom m\nwhere hour is null"
    run = DbtRun(Path(tmp_path), ["build"], Path(tmp_path), {})
    list(run.stream_batched_tests(list(results.values()), None, _manifest_for_events(tests), LayeredTranslator(), None))
    assert run.batched_failures == ["test.p.nn: fail 1 row(s)", f"test.p.renamed: error {results['renamed'].error}"]


def _manifest_for_events(tests) -> dict:
    nodes = {"model.p.m": {"resource_type": "model", "name": "m", "fqn": ["p", "marts", "m"], "meta": {},
                           "config": {"meta": {}}, "unique_id": "model.p.m"}}  # fmt: skip
    for test in tests.values():
        nodes[test.unique_id] = {"resource_type": "test", "name": test.name, "attached_node": "model.p.m",
                                 "depends_on": {"nodes": ["model.p.m"]}, "unique_id": test.unique_id,
                                 "fqn": ["p", test.name], "meta": {}, "config": {"meta": {}}}  # fmt: skip
    return {"nodes": nodes, "sources": {}, "metadata": {"project_name": "p"}}


def test_a_test_runs_when_nothing_it_reads_failed_in_this_build():
    run = DbtRun(Path("."), ["build"], Path("."), {})
    statuses = {"model.p.fact": "success", "model.p.dim": "error", "model.p.view": "skipped"}
    run.outcome = BuildOutcome(success=False, exception=None, statuses=statuses)
    assert run.may_test(("model.p.fact",))
    assert run.may_test(("model.p.untouched", "model.p.fact"))  # a parent this build did not select: as it was
    assert not run.may_test(("model.p.untouched", "model.p.dim"))
    assert not run.may_test(("model.p.view",))
    run.outcome = BuildOutcome(success=False, exception="dbt could not compile the project", statuses=statuses)
    assert not run.may_test(("model.p.fact",))


def test_a_windowed_grain_test_holds_its_window_column_in_its_key(dbt_manifest):
    """A grain test may look at the build's days only when its key holds the day (DECISIONS.md, "Cost of a day on
    a long history"): two rows with one key then lie on the same side of min_date. Also which models are windowed."""
    manifest = json.loads(dbt_manifest.read_text())
    windowed: dict[str, set[str]] = {}
    for test in batched_tests(manifest, project_vars()).values():
        if test.where is None or "__tests_from__" not in test.where:
            continue
        column = test.where.split(" is null", 1)[0].strip()  # "<day> is null or <day> >= __tests_from__"
        assert test.where == f"{column} is null or {column} >= __tests_from__", test.unique_id
        windowed.setdefault(manifest["nodes"][test.model]["name"], set()).add(column)
        if test.kind in ("unique", "unique_combination"):
            key = test.kwargs.get("combination_of_columns") or [test.kwargs["column_name"]]
            assert column in key, f"{test.unique_id}: its key {key} lacks {column}"
    assert windowed == {
        **{m: {"metric_date"} for m in ("stg_studio__overview", "stg_studio__viewers", "stg_studio__follower_history",
                                        "stg_studio__follower_activity", "stg_studio__content",
                                        "int_video_snapshots__unioned", "int_follower_counts__unioned")},
        **{m: {"snapshot_date"} for m in ("stg_studio__follower_gender", "stg_studio__follower_territories")},
    }  # fmt: skip
