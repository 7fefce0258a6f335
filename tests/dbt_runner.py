"""dbt run inside the test process, as the daily job runs it (`orchestration/lib/core/dbt_invocation.py`).

The tests call dbt a dozen times, each on its own data directory, with its own target folder and build window
(TIKTOK_DBT_MIN_DATE, ...: read when models are compiled, at run time, like the data directory); the project is
parsed once per process. `build` runs a planned build as the daily job's dbt step does, the generic tests
batched one statement per model (tests/test_dbt_batched_tests.py holds them to dbt's own verdicts); other tests
run dbt's test nodes as dbt does. The Dagster runs of test_end_to_end, test_receipts_and_replay and
test_run_summary cover the daily job's own dbt step.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.lib.core.dbt_batched_tests import failed_tests, run_batched_tests
from orchestration.lib.core.dbt_invocation import failed_nodes, invoke_dbt
from orchestration.lib.core.warehouse import connect


class InProcessDbt:
    """`invoke(data_dir, args, target)` runs one dbt command; `dbt(paths, args, target, env)` also asserts it passed."""

    def invoke(self, data_dir: Path, args: list[str], target: Path, env: dict[str, str] | None = None):
        """One dbt command on the warehouse of `data_dir`, with the environment variables `env` set (a Dagster
        build's window); returns dbt's result (`.success`, `.exception`). No dbt.log: writing it costs a tenth of
        a build, and a failure is told by run_results or the result itself."""
        return invoke_dbt(data_dir, [*args, "--log-level-file", "none"], target, env, quiet=True)

    def __call__(self, paths, args: list[str], target: Path, env: dict[str, str] | None = None) -> None:
        """Like `invoke`, asserting that every node passed; writes no artifacts (nobody reads them)."""
        result = self.invoke(paths.root, [*args, "--no-write-json"], target, env)
        assert result.success, f"dbt {' '.join(args)} failed: {result.exception or failed_nodes(result)}"

    def build(self, paths, build, target: Path, manifest: dict) -> None:
        """A planned `DbtBuild` as the daily job's dbt step runs it (`defs/dbt.py` `_run_build`): dbt builds without
        the generic tests it can batch, which then run one statement per model; asserts that everything passed.
        (dbt running each of them as a node of its own took ~10 s of each whole build.)"""
        from orchestration.defs.dbt import TESTS_FROM_ENV, split_batched_tests

        args, batched = split_batched_tests(build, manifest)
        self(paths, args, target, build.env)
        with connect(paths.warehouse) as con:
            tested = run_batched_tests(con, batched.values(), build.env.get(TESTS_FROM_ENV) or None)
        assert not failed_tests(tested), f"batched tests failed: {failed_tests(tested)[:10]}"

    def build_all(self, paths, target: Path, manifest: dict) -> list[dict]:
        """`dbt build` of the whole project, its unit tests included (the daily job leaves them out), the generic
        tests it can batch run one statement per model after it as the daily job runs them; asserts that everything
        passed and returns dbt's run_results. (dbt ran those ~440 tests as nodes in ~7 s of a 13 s build;
        test_dbt_batched_tests.py holds the batched verdicts to dbt's own.)"""
        from orchestration.defs.dbt import DbtBuild, split_batched_tests

        args, batched = split_batched_tests(DbtBuild(["build"]), manifest)
        result = self.invoke(paths.root, args, target)
        assert result.success, f"dbt build failed: {result.exception or failed_nodes(result)}"
        with connect(paths.warehouse) as con:
            tested = run_batched_tests(con, batched.values(), None)
        assert len(tested) == len(batched) and not failed_tests(tested), failed_tests(tested)[:10]
        return run_results(target)


def run_results(target: Path) -> list[dict]:
    """The run_results.json entries of the last dbt command that used `target`."""
    path = target / "run_results.json"
    return json.loads(path.read_text())["results"] if path.is_file() else []


def failures(target: Path) -> list[str]:
    """What did not pass in the last command, with dbt's message: the text an assertion shows."""
    return [f"{r['unique_id']}: {r['status']} {r.get('message')}" for r in run_results(target)
            if r["status"] not in ("success", "pass")]  # fmt: skip


def planned_build(paths, dbt: InProcessDbt, target: Path, *, full_refresh: bool = False):
    """The dbt build Dagster's daily job plans (the whole project on a first build, else what the new rows touch;
    the generic tests batched per model), then its bookkeeping, without Dagster. Returns the `DbtBuild`."""
    from orchestration.defs.dbt import dbt_project, finish_dbt_build, plan_dbt_build  # Dagster: not at collection

    manifest = json.loads(dbt_project().manifest_path.read_text())
    with connect(paths.warehouse) as con:
        build = plan_dbt_build(con, manifest, full_refresh=full_refresh, subset=False)
    dbt.build(paths, build, target, manifest)
    with connect(paths.warehouse) as con:
        finish_dbt_build(con, build)
    return build


def mart_tables(paths, like: str = "%") -> dict[str, list[tuple]]:
    """The rows of every table of the marts schema named `like`, each ordered: two builds compared table by table."""
    with connect(paths.warehouse, read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' and table_name like ?", [like]
        ).fetchall()
        return {t: con.execute(f"select * from marts.{t} order by all").fetchall() for (t,) in sorted(tables)}
