"""Session-wide set-up: telemetry off, temporary folders in memory, dbt parsed once, the slow tests first, the garbage
collector tuned for long-lived workers.

`make test` runs the suite on every core (pytest-xdist, `[tool.pytest.ini_options]` in pyproject.toml), so
everything here is safe with several worker processes: each has its own temporary folders, environment and
ports; the one shared folder, dbt_project/target (the manifest Dagster reads), is written under a lock.
"""

import gc
import os
from pathlib import Path

import pytest

from orchestration.lib.core import dbt_worker
from orchestration.lib.core.collector import NO_FULL_COLLECTION
from orchestration.lib.core.dbt_manifest import ensure_manifest, manifest_path
from orchestration.lib.marts import quality_worker
from tests.dbt_runner import InProcessDbt

# great-expectations and dbt must never phone home from a test run.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# A test process runs the pipeline in process a dozen times: great-expectations is imported in it once, not again
# in a worker spawned for each run (~3 s of CPU each; the suite took 283 -> 243 s of CPU). A `make run` a test
# starts as a subprocess still uses the worker, and test_mart_quality.py holds the worker's results to this one's.
quality_worker.spawn_worker = False
# Likewise dbt builds on a thread of the test process, where dbt is imported once, not in a worker spawned by each
# run's landing (lib/core/dbt_worker.py; ~2.5 s of CPU each). A `make run` a test starts still uses the worker.
dbt_worker.spawn_worker = False

# The longest work units, longest first (measured: a plugin timing each test of a whole warm run, session 43), so
# that the workers finish together. xdist hands out work in collection order; a test not listed keeps its place
# after these. Node-id prefixes: a module stands for all of its tests not listed alone; a test named alone is a work
# unit of its own (so it must not use a module-scoped fixture, which its module would set up again). Left unlisted,
# test_run_summary's other tests made one 51 s unit that a worker started last, 21 s after the other had finished.
SLOWEST_FIRST = (
    "tests/test_receipts_and_replay.py::test_replay_rebuilds_a_deleted_warehouse_from_the_archive",  # 35 s
    "tests/test_dbt_daily_build.py::test_each_run_builds_what_its_files_touch",  # 33 s
    "tests/test_run_summary.py::test_make_run_on_a_tiny_drop",  # 24 s
    "tests/api/test_dagster_api_assets.py::test_the_repull_job_builds_what_depends_on_the_pull",  # 22 s
    "tests/live/test_live_marts.py",  # 21 s
    "tests/test_run_summary.py::test_a_zip_inside_a_zip",  # 19 s
    "tests/test_report_browser.py",  # 19 s
    "tests/test_dbt_batched_tests.py",  # 19 s
    "tests/test_moved_files.py::test_moved_on_then_back",  # 19 s
    "tests/test_dbt_daily_build.py::test_a_selection_of_the_jobs_assets_builds_only_it",  # 18 s
    "tests/test_incremental_equals_full.py::test_incremental_builds_equal_a_full_refresh",  # 15-17 s a case
    "tests/test_moved_files.py",  # 17 s
    "tests/test_dbt_worker.py",  # 16 s: each test spawns a worker that imports dbt
    "tests/test_export_moments.py",  # 16 s
    "tests/test_receipts_and_replay.py::test_a_replay_stopped_half_way",  # 16 s
    "tests/test_run_summary.py::test_files_a_failed_run_landed",  # 15 s
    "tests/test_run_summary.py",  # 18 s (its tests not listed above: a module after its tests listed alone)
    "tests/test_end_to_end.py::test_marts_equal_hand_computed_figures_and_reruns_change_nothing",  # 14 s
    "tests/test_mart_quality.py",  # 13 s
    "tests/test_dbt_manifest.py",  # 13 s
    "tests/test_publish.py::test_the_catalog_opens_with_duckdb_1x",  # installs a DuckDB 1.x wheel on a fresh clone
    "tests/test_instance_storage.py",  # 11 s
    "tests/api/test_api_marts.py",  # 11 s
    "tests/test_end_to_end.py::test_same_files_in_another_order",  # 10 s
    "tests/live/test_live_landing.py",  # 10 s
    "tests/test_studio_checking_workers.py",  # 10 s
    "tests/api/test_pulls.py",  # 10 s
    "tests/test_publish.py",  # 10 s
    "tests/api/test_api_repull_marts.py",  # 9 s
    "tests/test_report_marts.py",  # 9 s
    "tests/api/test_live_zone_from_pull.py",  # 9 s
    "tests/test_landing.py",  # 8 s
)
SLOW_TESTS_APART = tuple(prefix for prefix in SLOWEST_FIRST if "::" in prefix)
# Below this much free memory the temporary folders stay on disk.
TMPFS_MIN_FREE = 2 << 30
YOUNG_COLLECTION_EVERY = 7_000  # allocations (Python's default: 700); see pytest_collection_finish


def pytest_configure(config):
    """Temporary folders on a RAM file system (/dev/shm) when there is one with room to spare.

    The pipeline's tests write small files but commit often (Dagster's SQLite event log, DuckDB
    checkpoints, the archive's syncfs): on a busy disk each commit waits for it. `--basetemp` or
    PYTEST_DEBUG_TEMPROOT still choose the place.
    """
    if config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT") or hasattr(config, "workerinput"):
        return  # workers get their folders from the controller, under its base
    shm = Path("/dev/shm")
    try:
        mounted_tmpfs = any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in Path("/proc/mounts").open())
        stats = os.statvfs(shm)
    except OSError:
        return
    if mounted_tmpfs and os.access(shm, os.W_OK) and stats.f_bavail * stats.f_frsize >= TMPFS_MIN_FREE:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(shm)


def pytest_collection_modifyitems(config, items):
    """Under xdist, the slowest first (each worker collects, all in the same order)."""
    if not hasattr(config, "workerinput"):
        return  # a plain run keeps the files' order

    def rank(item):
        return next((n for n, prefix in enumerate(SLOWEST_FIRST) if item.nodeid.startswith(prefix)), len(SLOWEST_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order
    for item in items:
        shared = [name for name, defs in item._fixtureinfo.name2fixturedefs.items() if defs[-1].scope != "function"
                  and defs[-1].scope != "session"]  # fmt: skip
        if shared and item.nodeid.startswith(SLOW_TESTS_APART):
            item.warn(pytest.PytestWarning(f"listed alone in SLOWEST_FIRST but shares {shared}: list its module"))


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: a run without xdist has no such hook
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile` (a module's tests in one worker, its module-scoped fixtures set up once), except that
    each test listed alone in SLOWEST_FIRST is a work unit of its own. Other `--dist` modes are xdist's."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SlowTestsApart(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith(SLOW_TESTS_APART) else super()._split_scope(nodeid)

    return SlowTestsApart(config, log)


@pytest.fixture(scope="session")
def dbt_manifest():
    """The manifest Dagster loads its assets from, current with the dbt project: parsed again only when the
    project changed, by one process at a time (`ensure_manifest`, as `make prepare` does)."""
    ensure_manifest()
    return manifest_path()


@pytest.fixture(scope="session")
def dbt(dbt_manifest) -> InProcessDbt:
    """dbt in this process, the project parsed once (tests/dbt_runner.py)."""
    return InProcessDbt()


def pytest_collection_finish(session):
    """Python's garbage collector, tuned for a test worker, which keeps ~1 M objects alive (modules, dbt's manifest,
    Dagster's definitions) that each full collection walked again: what survives collection and each module's tests
    is frozen (`gc.freeze`, as `python -m orchestration run` does after its start-up, lib/core/collector.py), full
    collections happen only then, and young objects are collected every 7,000 allocations instead of 700. The
    collector's time per worker went from ~17 s to ~7 s, the suite's from ~225 s to ~185 s (docs/benchmarks.md,
    session 28). A cycle frozen while alive and dropped later stays until the worker exits."""
    gc.set_threshold(YOUNG_COLLECTION_EVERY, gc.get_threshold()[1], NO_FULL_COLLECTION)
    _freeze_survivors()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a module's last test, its fixtures torn down: collect, then freeze what is still alive."""
    yield
    if nextitem is None or nextitem.path != item.path:
        _freeze_survivors()


def _freeze_survivors() -> None:
    gc.collect()
    gc.freeze()
