"""dbt inside this process: the project parsed once per process, then each command run on a data directory.

A `dbt` subprocess pays ~1.5 s of imports before it reads a file, and it parsed the whole project again (~3 s)
in every new data directory: dbt keeps its parse state only for the same rendered profile, whose warehouse
path follows TIKTOK_DATA_DIR. Here the project is parsed in `PARSE_ENVIRONMENT` (TIKTOK_DATA_DIR unset), as
`make prepare` parses it (`dbt_manifest.ensure_manifest`), so the parse state it left in dbt_project/target is
reused whatever the data directory; the data directory only matters once dbt opens the warehouse, at run
time, where the profile reads TIKTOK_DATA_DIR at each command. The parsed Manifest itself is kept in
dbt_project/target/ for the next process, per project fingerprint: loading it takes ~0.1 s, parsing ~1 s.

The daily job's dbt step (`defs/dbt.py`) and the tests (`tests/dbt_runner.py`) both run dbt through here.
"""

from __future__ import annotations

import copyreg
import dataclasses
import io
import os
import pickle
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.lib.core.dbt_manifest import PARSE_ENVIRONMENT, dbt_environment, project_fingerprint
from orchestration.lib.core.paths import DBT_PROJECT_DIR

# dbt's events for a finished node: what Dagster turns into materializations and check results
RESULT_EVENTS = frozenset({"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"})

_parsed: dict[str, Any] = {}  # project fingerprint → dbt's Manifest, for the life of the process
_parsed_lock = threading.Lock()


def parsed_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Any:
    """dbt's Manifest object for the project as it is now, parsed at most once per process and project state,
    and kept in `dbt_project/target/` for the next process (`_cache_path`): loading it takes ~0.1 s where
    dbt's parse, even a partial one, takes a second."""
    fingerprint = project_fingerprint(project_dir)
    with _parsed_lock:  # the dbt step may ask while `warm_up_in_background` loads it
        if fingerprint not in _parsed:
            cache = _cache_path(project_dir, fingerprint)
            manifest = _load_cached(cache)
            if manifest is None:
                manifest = _parse(project_dir)
                _save_cached(cache, manifest)
            _parsed.clear()  # an older state of the project is never asked for again
            _parsed[fingerprint] = manifest
        return _parsed[fingerprint]


def warm_up_in_background(project_dir: Path = DBT_PROJECT_DIR) -> threading.Thread:
    """Import dbt's runner and load the project's kept Manifest on a thread of their own, what the dbt step would
    otherwise do before its first model (the rest of dbt is imported with the definitions): for a run that will
    build, started while the landing's process mostly waits (on its workers, DuckDB, the disk). At 300 x 90 the
    first model came 0.35 s sooner, the landing no slower. It never parses, which would set environment variables
    the whole process reads; whatever fails here the dbt step does again."""

    parsed = _parsed  # the process's Manifests as they are now (a test may swap the dict for its own meanwhile)

    def warm_up() -> None:
        try:
            import dbt.cli.main  # noqa: F401  (what `dbt_runner` imports)

            fingerprint = project_fingerprint(project_dir)
            with _parsed_lock:
                if not parsed:  # else the step got there first
                    kept = _load_cached(_cache_path(project_dir, fingerprint))
                    if kept is not None:
                        parsed[fingerprint] = kept
        except Exception:  # noqa: BLE001 (nothing is lost: the dbt step imports and loads it again, and reports)
            pass

    thread = threading.Thread(target=warm_up, name="dbt-warm-up", daemon=True)
    thread.start()
    return thread


def _parse(project_dir: Path) -> Any:
    from dbt.cli.main import dbtRunner

    scratch = Path(tempfile.mkdtemp(prefix="dbt-parse-"))
    try:
        state = project_dir / "target" / "partial_parse.msgpack"
        if state.is_file():  # left by `make prepare` in the same environment: dbt re-reads only changed files
            shutil.copyfile(state, scratch / state.name)
        with dbt_environment(PARSE_ENVIRONMENT):
            parsed = dbtRunner().invoke(["parse", "--quiet", "--no-write-json", *_flags(project_dir, scratch)])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not parsed.success:
        raise RuntimeError(f"dbt parse failed in {project_dir}: {parsed.exception}")
    return parsed.result


def _cache_path(project_dir: Path, fingerprint: str) -> Path:
    """The parsed Manifest of one project state (its fingerprint covers the files, the env vars they read and
    the dbt version). Written here by this code only, in the project's own git-ignored target folder."""
    return project_dir / "target" / f"parsed_manifest.{_PICKLE_FORMAT}.{fingerprint[:24]}.pickle"


def _load_cached(cache: Path) -> Any:
    try:
        with open(cache, "rb") as handle:
            return pickle.load(handle)
    except Exception:  # missing, torn, or from another dbt: parse again, which rewrites it
        return None


def _save_cached(cache: Path, manifest: Any) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_name(f".{cache.name}.{os.getpid()}")
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = {**copyreg.dispatch_table, **_manifest_reducers()}
        pickler.dump(manifest)
        temporary.write_bytes(buffer.getvalue())
        os.replace(temporary, cache)  # a reader sees the whole file or none
        for older in cache.parent.glob("parsed_manifest.*.pickle"):
            if older != cache:
                older.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):  # a cache only: the next process parses again
        pass


# "2": Manifests pickled by their fields (`_manifest_reducers`); copies kept in format 1 are never loaded.
_PICKLE_FORMAT = 2


def _manifest_reducers() -> dict[type, Callable[[Any], tuple]]:
    """dbt's `Manifest.__reduce_ex__` passes its fields by position and leaves out `fixtures`: each lookup it holds
    lands in the field before its own (`_doc_lookup` gets the SourceLookup), and `fixtures` gets `_doc_lookup`.
    A Manifest whose lookups were built while parsing came back broken ("RefableLookup.find() missing 1 required
    positional argument: 'manifest'" on every model). Pickled here by name, its public fields only: the lookups,
    locks and macro indexes are caches dbt rebuilds on first use."""
    try:
        from dbt.contracts.graph.manifest import Manifest
    except ImportError:  # nothing of dbt's to pickle (the tests' stand-ins)
        return {}
    return {Manifest: lambda manifest: (_manifest_from_fields, (type(manifest), _public_fields(manifest)))}


def _public_fields(manifest: Any) -> dict[str, Any]:
    return {f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest) if not f.name.startswith("_")}


def _manifest_from_fields(manifest_class: type, fields: dict[str, Any]) -> Any:
    return manifest_class(**fields)


def invoke_dbt(
    data_dir: Path,
    args: Sequence[str],
    target: Path,
    env: dict[str, str | None] | None = None,
    *,
    quiet: bool = False,
    project_dir: Path = DBT_PROJECT_DIR,
):
    """One dbt command (`build ...`) on the warehouse of `data_dir`, its artifacts and dbt.log in `target`, with
    the environment variables `env` set while it runs (the build window). Returns dbt's result: `.success`,
    `.exception`, `.result` (the node results)."""
    runner = dbt_runner(project_dir=project_dir)
    with dbt_environment(command_environment(data_dir, env)):
        try:
            return runner.invoke(command_args(args, target, quiet=quiet, project_dir=project_dir))
        finally:
            release_warehouse()


def dbt_runner(on_event: Callable[[Any], None] | None = None, project_dir: Path = DBT_PROJECT_DIR):
    """dbt's programmatic runner on the parsed project; `on_event` gets each of dbt's events (on dbt's threads)."""
    from dbt.cli.main import dbtRunner

    _name_flag_sources_from_frames()
    return dbtRunner(manifest=parsed_manifest(project_dir), callbacks=[on_event] if on_event else [])


def _name_flag_sources_from_frames() -> None:
    """Each dbt command builds its adapter's behavior flags, and dbt-common names the module that declared each one
    by walking `inspect.stack()`, even when the flag names it: that reads the source line of every frame on the
    stack and, for a frame of no module file (a Jinja template, pytest-xdist's `<string>`), scans every module
    loaded. Under a Dagster run's deep stack, in a process with thousands of modules, that was 27 ms a flag, twice
    per command. The same name comes from the frames' globals (`_module_of_caller`)."""
    from dbt_common import behavior_flags

    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(_module_of_caller)


_BEHAVIOR_FLAGS_MODULE = "dbt_common.behavior_flags"


def _module_of_caller() -> str:
    """The first module on the stack other than dbt-common's behavior_flags, which calls this."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != _BEHAVIOR_FLAGS_MODULE:
            return name
        frame = frame.f_back
    return "Unknown"


def command_environment(data_dir: Path, env: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """What one command reads from the environment: its build window and the data directory the profile opens."""
    return {**(env or {}), "TIKTOK_DATA_DIR": str(data_dir)}


def command_args(args: Sequence[str], target: Path, *, quiet: bool = False, project_dir: Path = DBT_PROJECT_DIR):
    return [*args, *(["--quiet"] if quiet else []), *_flags(project_dir, target)]


def cancel_open_queries() -> None:
    """Interrupt the queries dbt is running (as dbt does on Ctrl-C), so a cancelled build stops writing soon."""
    from dbt.adapters.factory import FACTORY

    for adapter in list(FACTORY.adapters.values()):
        try:
            adapter.cancel_open_connections()
        except Exception:  # best effort: the build is being abandoned anyway
            pass


def release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB database open for the life of the process (a dbt process is short): close
    it, so the steps after dbt (publishing, a test's queries, a file copy) see the warehouse released."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()


def write_run_results(result, args: Sequence[str], target: Path) -> None:
    """`<target>/run_results.json`, as dbt writes it, also when dbt was told not to write its artifacts."""
    results = getattr(result, "result", None)
    if "--no-write-json" in args and hasattr(results, "write"):
        results.write(str(Path(target) / "run_results.json"))


def all_built(statuses: dict[str, str], parents: Sequence[str]) -> bool:
    """Whether dbt would run a test reading `parents` after a build whose nodes ended with `statuses`: none of them
    failed or was skipped. A parent the build did not run is as the last build left it."""
    return all(statuses.get(parent, "success") == "success" for parent in parents)


def failed_nodes(result, passing: tuple[str, ...] = ("success", "pass")) -> list[str]:
    """`unique_id: status message` for each node of a dbt result whose status is not one of `passing`."""
    return BuildOutcome.of(result).failed_nodes(passing)


@dataclass
class BuildOutcome:
    """How a dbt command ended, in plain values a worker process can send: dbt's `success`, its exception as
    text, and each node's status and message by unique_id (in dbt's order)."""

    success: bool
    exception: str | None
    statuses: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, result) -> BuildOutcome:
        """From dbt's result (`dbtRunnerResult`)."""
        nodes = getattr(result.result, "results", None) or []
        return cls(
            success=bool(result.success),
            exception=None if result.exception is None else str(result.exception) or type(result.exception).__name__,
            statuses={r.node.unique_id: str(r.status) for r in nodes},
            messages={r.node.unique_id: r.message or "" for r in nodes},
        )

    def failed_nodes(self, passing: tuple[str, ...] = ("success", "pass")) -> list[str]:
        """`unique_id: status message` for each node whose status is not one of `passing`."""
        return [
            f"{unique_id}: {status} {self.messages.get(unique_id, '')}".rstrip()
            for unique_id, status in self.statuses.items()
            if status not in passing
        ]


def _flags(project_dir: Path, target: Path) -> list[str]:
    return ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--target-path", str(target),
            "--log-path", str(target)]  # fmt: skip
