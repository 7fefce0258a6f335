"""dbt run inside the test process, the project parsed once per process (the `dbt` fixture in conftest.py).

A `dbt` subprocess pays about 5 s of start-up (imports, a full parse into a fresh target folder) before it
builds anything; the tests call dbt a dozen times, so they parse once and invoke dbt in process with that
manifest. Each call still has its own target and log folders, its own data directory (the profile reads
TIKTOK_DATA_DIR at every invocation) and its own build window (TIKTOK_DBT_MIN_DATE, ...: read when models are
compiled, at run time, like the data directory). The daily job's own dbt subprocess stays covered by the
Dagster runs of test_end_to_end, test_receipts_and_replay and test_run_summary.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from orchestration.lib.core.dbt_manifest import dbt_environment
from orchestration.lib.core.paths import DBT_PROJECT_DIR


class InProcessDbt:
    """`invoke(data_dir, args, target)` runs one dbt command; `dbt(paths, args, target, env)` also asserts it passed."""

    def __init__(self, work: Path):
        from dbt.cli.main import dbtRunner

        self.parse_target = work / "parse"
        # `ensure_manifest` (the dbt_manifest fixture, make prepare) leaves its parse state: start from it. dbt
        # reuses it only for the same profile, data directory included: parse in the environment as it is.
        previous = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
        if previous.is_file():
            self.parse_target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(previous, self.parse_target / previous.name)
        parsed = dbtRunner().invoke(["parse", *_flags(self.parse_target)])  # parsing opens no database
        assert parsed.success, parsed.exception
        self.runner = dbtRunner(manifest=parsed.result)

    def invoke(self, data_dir: Path, args: list[str], target: Path, env: dict[str, str] | None = None):
        """One dbt command on the warehouse of `data_dir`, with the environment variables `env` set (a Dagster
        build's window); returns dbt's result (`.success`, `.exception`)."""
        with dbt_environment({**(env or {}), "TIKTOK_DATA_DIR": str(data_dir)}):
            try:
                return self.runner.invoke([*args, *_flags(target)])
            finally:
                _release_warehouse()

    def __call__(self, paths, args: list[str], target: Path, env: dict[str, str] | None = None) -> None:
        """Like `invoke`, asserting that every node passed; writes no artifacts (nobody reads them)."""
        result = self.invoke(paths.root, [*args, "--no-write-json"], target, env)
        failed = [f"{r.node.unique_id}: {r.status} {r.message}" for r in getattr(result.result, "results", None) or []
                  if str(r.status) not in ("success", "pass")]  # fmt: skip
        assert result.success, f"dbt {' '.join(args)} failed: {result.exception or failed}"


def run_results(target: Path) -> list[dict]:
    """The run_results.json entries of the last dbt command that used `target`."""
    path = target / "run_results.json"
    return json.loads(path.read_text())["results"] if path.is_file() else []


def failures(target: Path) -> list[str]:
    """What did not pass in the last command, with dbt's message: the text an assertion shows."""
    return [f"{r['unique_id']}: {r['status']} {r.get('message')}" for r in run_results(target)
            if r["status"] not in ("success", "pass")]  # fmt: skip


def _release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB environment open for the life of the process (a dbt process is short);
    close it so that landing, queries and file copies see a released warehouse, as after a dbt process."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()


def _flags(target: Path) -> list[str]:
    # no dbt.log: writing it costs a tenth of a build; a failure is told by run_results or the result itself
    return ["--quiet", "--log-level-file", "none", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
            str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target / "logs")]  # fmt: skip
