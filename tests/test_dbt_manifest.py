"""dbt's manifest is parsed again only when what it is parsed from changed (lib/core/dbt_manifest.py)."""

from __future__ import annotations

import json
import shutil

import pytest

from orchestration.lib.core import dbt_manifest as dbt_manifest_module
from orchestration.lib.core.dbt_manifest import FINGERPRINT_FILE, ensure_manifest, manifest_path, project_fingerprint
from orchestration.lib.core.paths import DBT_PROJECT_DIR


@pytest.fixture
def project(tmp_path, dbt_manifest):
    """A copy of the dbt project (sources, no logs/), its target/ holding only dbt's partial-parse state: no
    manifest yet, and a parse re-reads what changed since `make prepare` (3 s where a whole parse takes 6)."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (copy / "target").mkdir()
    shutil.copyfile(dbt_manifest.with_name("partial_parse.msgpack"), copy / "target" / "partial_parse.msgpack")
    return copy


def test_the_fingerprint_follows_the_project_files_and_the_env_vars_they_read(project, monkeypatch):
    before = project_fingerprint(project)
    assert project_fingerprint(project) == before  # stable

    # the data directory only names the warehouse file: never a reason to parse again
    monkeypatch.setenv("TIKTOK_DATA_DIR", "/somewhere/else")
    assert project_fingerprint(project) == before

    model = project / "models" / "marts" / "dim_accounts.sql"
    model.write_text(model.read_text() + "\n-- a comment is a change too\n")
    edited = project_fingerprint(project)
    assert edited != before

    (project / "macros" / "new_macro.sql").write_text("{% macro answer() %}{{ return(42) }}{% endmacro %}\n")
    added = project_fingerprint(project)
    assert added != edited

    # a file that reads an environment variable at parse time makes that variable part of the fingerprint
    (project / "macros" / "reads_env.sql").write_text(
        "{% macro region() %}{{ env_var('MY_REGION', 'eu') }}{% endmacro %}\n"
    )
    monkeypatch.setenv("MY_REGION", "eu")
    with_env = project_fingerprint(project)
    monkeypatch.setenv("MY_REGION", "us")
    assert project_fingerprint(project) != with_env

    # and so is the dbt version
    current = project_fingerprint(project)
    real = dbt_manifest_module._version
    monkeypatch.setattr(dbt_manifest_module, "_version", lambda name: "9.9.9" if name == "dbt-core" else real(name))
    assert project_fingerprint(project) != current


def _seed_with_the_projects_manifest(project, dbt_manifest) -> None:
    """The copy's last good parse is the project's own: the fingerprint holds paths relative to the project."""
    for parsed in (dbt_manifest, dbt_manifest.with_name(FINGERPRINT_FILE)):
        shutil.copyfile(parsed, project / "target" / parsed.name)


def test_an_unchanged_project_reuses_its_manifest_and_a_changed_one_is_parsed(project, dbt_manifest, monkeypatch):
    _seed_with_the_projects_manifest(project, dbt_manifest)
    manifest = manifest_path(project)
    parses = []
    real_parse = dbt_manifest_module._parse
    monkeypatch.setattr(dbt_manifest_module, "_parse", lambda *a: parses.append(a) or real_parse(*a))
    stamp = manifest.stat().st_mtime_ns
    assert ensure_manifest(project) is False
    assert parses == [] and manifest.stat().st_mtime_ns == stamp

    (project / "models" / "marts" / "dim_extra.sql").write_text("select 1 as one\n")
    assert ensure_manifest(project) is True
    assert len(parses) == 1
    nodes = json.loads(manifest.read_text())["nodes"]
    assert {"model.tiktok_warehouse.dim_extra", "model.tiktok_warehouse.dim_accounts"} <= set(nodes)
    assert not list((project / "target").glob(".parse-*")), "the scratch folder is removed"
    assert not (project / "logs").exists(), "dbt's log of the parse stays in the scratch folder"
    assert ensure_manifest(project) is False

    # a manifest written by someone else (or deleted) is not trusted without its fingerprint
    manifest.unlink()
    assert ensure_manifest(project) is True and manifest.exists()
    assert len(parses) == 2


def test_a_failed_parse_says_why_and_keeps_the_previous_manifest(project, dbt_manifest):
    _seed_with_the_projects_manifest(project, dbt_manifest)
    assert ensure_manifest(project) is False
    previous = manifest_path(project).read_bytes()
    (project / "models" / "marts" / "broken.sql").write_text("select {{ ref('no_such_model') }}\n")
    with pytest.raises(RuntimeError, match="no_such_model"):
        ensure_manifest(project)
    assert manifest_path(project).read_bytes() == previous
    (project / "models" / "marts" / "broken.sql").unlink()
    assert ensure_manifest(project) is False  # the fingerprint of the last good parse still matches
