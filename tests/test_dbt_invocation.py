"""dbt's parsed project is kept between processes (lib/core/dbt_invocation.py): loaded while the project is
unchanged, parsed again when the kept copy is unreadable, never used for another project state."""

import pickle

from orchestration.lib.core import dbt_invocation
from orchestration.lib.core.dbt_manifest import project_fingerprint


def _project(tmp_path):
    """A dbt project of one model, with its (empty) target folder."""
    project = tmp_path / "project"
    (project / "target").mkdir(parents=True)
    (project / "models").mkdir()
    (project / "models" / "m.sql").write_text("select 1 as one\n")
    return project


def test_the_kept_manifest_is_loaded_and_a_torn_one_parsed_again(tmp_path, monkeypatch):
    project = _project(tmp_path)
    parses = []

    def parse(project_dir):
        parses.append(project_dir)
        return {"parsed": len(parses)}  # stands in for dbt's Manifest: any picklable object

    monkeypatch.setattr(dbt_invocation, "_parse", parse)
    monkeypatch.setattr(dbt_invocation, "_parsed", {})
    first = dbt_invocation.parsed_manifest(project)
    assert first == {"parsed": 1} and len(parses) == 1
    cache = dbt_invocation._cache_path(project, project_fingerprint(project))
    assert pickle.loads(cache.read_bytes()) == {"parsed": 1}

    monkeypatch.setattr(dbt_invocation, "_parsed", {})  # a new process: loaded, not parsed
    assert dbt_invocation.parsed_manifest(project) == {"parsed": 1} and len(parses) == 1

    cache.write_bytes(b"\x80\x05torn")  # unreadable: parsed again, and kept again
    monkeypatch.setattr(dbt_invocation, "_parsed", {})
    assert dbt_invocation.parsed_manifest(project) == {"parsed": 2}
    assert pickle.loads(cache.read_bytes()) == {"parsed": 2}

    (project / "models" / "m.sql").write_text("select 2 as two\n")  # another project state: its own copy
    monkeypatch.setattr(dbt_invocation, "_parsed", {})
    assert dbt_invocation.parsed_manifest(project) == {"parsed": 3}
    assert [p.name for p in (project / "target").glob("parsed_manifest.*.pickle")] == [
        dbt_invocation._cache_path(project, project_fingerprint(project)).name
    ]  # the older state's copy is gone


def test_the_warm_up_loads_the_kept_manifest_and_never_parses(tmp_path, monkeypatch):
    project = _project(tmp_path)
    parses = []
    monkeypatch.setattr(dbt_invocation, "_parse", lambda project_dir: parses.append(project_dir) or {"parsed": 1})
    monkeypatch.setattr(dbt_invocation, "_parsed", {})
    dbt_invocation.warm_up_in_background(project).join()
    # nothing kept yet: the warm-up leaves the parse (it sets environment variables the whole process reads) to the
    # dbt step
    assert parses == [] and dbt_invocation._parsed == {}

    fingerprint = project_fingerprint(project)
    dbt_invocation._cache_path(project, fingerprint).write_bytes(pickle.dumps({"kept": True}))
    dbt_invocation.warm_up_in_background(project).join()
    assert dbt_invocation._parsed == {fingerprint: {"kept": True}}
    monkeypatch.setattr(dbt_invocation, "_load_cached", lambda cache: {"loaded again": True})
    assert dbt_invocation.parsed_manifest(project) == {"kept": True} and parses == []  # the step takes it as loaded


def test_a_manifest_kept_with_its_lookups_built_comes_back_whole(tmp_path):
    """dbt's own pickling of a Manifest shifts every lookup it holds into the field before (and drops `fixtures`):
    a parse that built them left a kept copy on which every model failed to compile."""
    manifest = dbt_invocation.parsed_manifest()  # the project's, as the daily job's dbt step takes it
    for lookup in ("ref_lookup", "source_lookup", "doc_lookup", "disabled_lookup", "analysis_lookup"):
        getattr(manifest, lookup)  # built on first use, as parsing builds some of them
    shifted = pickle.loads(pickle.dumps(manifest))  # dbt's own way; failing here: dbt fixed it, the reducer may go
    assert type(shifted._doc_lookup).__name__ == "SourceLookup", "dbt's shift"

    cache = tmp_path / "kept.pickle"
    dbt_invocation._save_cached(cache, manifest)
    kept = dbt_invocation._load_cached(cache)

    assert kept.fixtures == manifest.fixtures and sorted(kept.nodes) == sorted(manifest.nodes)
    assert {name: value for name, value in vars(kept).items() if name.endswith("_lookup") and value is not None} == {}
    found = kept.ref_lookup.find("dim_accounts", None, None, kept)
    assert found.unique_id == "model.tiktok_warehouse.dim_accounts"
    assert type(kept.doc_lookup).__name__ == "DocLookup"


def test_behavior_flags_name_the_module_that_declared_them_without_inspect_stack(monkeypatch):
    """dbt_runner() replaces dbt-common's inspect.stack() walk (lib/core/dbt_invocation.py): the adapter's flags still
    name the adapter's module; a dbt-common that renamed the hook would leave the patch silently unused."""
    import inspect

    from dbt.adapters.duckdb.impl import DuckDBAdapter
    from dbt_common import behavior_flags

    assert "_default_source" in vars(behavior_flags.BehaviorFlagRendered), "dbt-common renamed the hook"
    monkeypatch.setattr(behavior_flags.BehaviorFlagRendered, "_default_source", staticmethod(lambda: "unpatched"))
    dbt_invocation.dbt_runner()

    def no_stack(*args, **kwargs):
        raise AssertionError("inspect.stack() walked")

    monkeypatch.setattr(inspect, "stack", no_stack)
    adapter = DuckDBAdapter.__new__(DuckDBAdapter)  # only the behavior setter runs: no connection
    adapter.config = None  # no project flags, as in `dbt debug`
    adapter.behavior = [{"name": "some_flag", "default": False, "description": "a flag of this test"}]
    flag = adapter.behavior.some_flag
    assert flag._behavior_change_event.flag_source == "dbt.adapters.base.impl"
    declared = behavior_flags.Behavior([{"name": "other_flag", "default": True, "docs_url": "x"}], {})
    assert declared.other_flag._behavior_change_event.flag_source == __name__
