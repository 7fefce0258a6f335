"""Batched tests run as their models are built (lib/core/dbt_tests_alongside.py): each once every model it reads
that the build runs reported success, none whose parent failed or was skipped, the same counts as after the build."""

from __future__ import annotations

import threading

import duckdb

from orchestration.lib.core.dbt_batched_tests import BatchedTest, run_batched_tests
from orchestration.lib.core.dbt_tests_alongside import BatchedTestsAlongside


def _test(name: str, model: str, parents: tuple[str, ...], kind: str = "not_null", **kwargs) -> BatchedTest:
    kwargs = kwargs or {"column_name": "hour"}
    return BatchedTest(f"test.p.{name}", name, f"model.p.{model}", parents, model, kind, kwargs, None, "error")


NN_M = _test("nn_m", "m", ("model.p.m",))  # m.hour has one null: fails with 1
REL_M = _test("rel_m", "m", ("model.p.m", "model.p.p"), "relationships", column_name="id", to="p", field="id")
NN_OLD = _test("nn_old", "old", ("model.p.old",))  # a model this build does not run: tested at once
NN_Q = _test("nn_q", "q", ("model.p.q",))  # q fails in the build: never tested
NN_S = _test("nn_s", "s", ("model.p.s",))  # s never reported (skipped by dbt): decided at the end
BUILT = {"model.p.m", "model.p.p", "model.p.q", "model.p.s"}


def _warehouse(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create table m as select * from (values (1, 5), (2, null), (9, 3)) t(id, hour)")
        con.execute("create table p as select * from (values (1), (2)) t(id)")  # id 9 of m has no parent
        con.execute("create table old as select * from (values (null), (null)) t(hour)")
        con.execute("create table q as select 1 as hour")
        con.execute("create table s as select null as hour")


def test_each_test_runs_once_its_models_are_built_and_counts_what_it_counts_after_the_build(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    sent, lock = [], threading.Lock()
    arrived = threading.Event()

    def send(results):
        with lock:
            sent.append([r.test.name for r in results])
            arrived.set()

    tests = BatchedTestsAlongside([NN_M, REL_M, NN_OLD, NN_Q, NN_S], BUILT, path, None, send)
    assert arrived.wait(30) and sent == [["nn_old"]], "a test reading no model of the build runs at once"
    arrived.clear()
    tests.built("model.p.m", "success")
    assert arrived.wait(30) and sent[-1] == ["nn_m"], "rel_m still waits for p"
    tests.built("model.p.q", "error")  # nn_q dropped
    arrived.clear()
    tests.built("model.p.p", "success")
    assert arrived.wait(30) and sent[-1] == ["rel_m"]
    tests.finish({"model.p.m": "success", "model.p.p": "success", "model.p.q": "error", "model.p.s": "skipped"})
    assert sent == [["nn_old"], ["nn_m"], ["rel_m"]], "nn_q's model failed and nn_s's was skipped: not run"

    results = []
    tests = BatchedTestsAlongside([NN_M, REL_M, NN_OLD, NN_Q, NN_S], BUILT, path, None, results.extend)
    tests.finish({"model.p.m": "success", "model.p.q": "error"})  # p and s not reported: as a parent left out
    counts = {r.test.name: (r.failures, r.status) for r in results}
    with duckdb.connect(str(path)) as con:
        after = {r.test.name: (r.failures, r.status) for r in run_batched_tests(con, [NN_M, REL_M, NN_OLD, NN_S], None)}
    assert counts == after == {"nn_m": (1, "fail"), "rel_m": (1, "fail"), "nn_old": (2, "fail"), "nn_s": (1, "fail")}


def test_a_build_that_raised_runs_no_test_left_waiting(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    results = []
    tests = BatchedTestsAlongside([NN_M, NN_OLD], BUILT, path, None, results.extend)
    tests.finish(None)
    assert [r.test.name for r in results] == ["nn_old"], "run before dbt raised: stays reported"


def test_an_interrupt_stops_the_running_statement(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path)
    with duckdb.connect(str(path)) as con:  # minutes of work unless interrupted
        con.execute("create table big as select range as id, null as hour from range(3)")
    slow = _test("slow", "big", ("model.p.big",), "relationships", column_name="id", to="(select a.range as id "
                 "from range(100000000) a, range(100000) b)", field="id")  # fmt: skip
    results = []
    tests = BatchedTestsAlongside([slow], {"model.p.big"}, path, None, results.extend)
    tests.built("model.p.big", "success")
    threading.Timer(0.5, tests.interrupt).start()
    tests._thread.join(60)
    assert not tests._thread.is_alive() and results == []
