"""Newcomer paths: Dagster stays quiet, the demo keeps to its own folder, make explains a wrong Python,
the run summary names videos by title."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestration.cli_summary import _title
from orchestration.devtools.seed_demo import choose_data_dir, demo_paths
from orchestration.lib.core.dagster_home import ensure_dagster_home
from orchestration.lib.core.paths import PROJECT_ROOT, DataPaths


def _without_event_log(config: dict) -> dict:
    """The file minus the event log section (the pooled SQLite storage, tests/test_instance_storage.py)."""
    assert config["event_log_storage"]["class"] == "PooledSqliteEventLogStorage"
    return {key: value for key, value in config.items() if key != "event_log_storage"}


def test_a_new_dagster_home_has_telemetry_and_the_signup_dialog_off(tmp_path):
    config = ensure_dagster_home(tmp_path / "home")
    loaded = _without_event_log(yaml.safe_load(config.read_text()))
    assert loaded == {"telemetry": {"enabled": False}, "nux": {"enabled": False}}


def test_a_users_dagster_yaml_is_merged_not_overwritten(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "# my runs\nrun_queue:\n  max_concurrent_runs: 2\nnux:\n  enabled: true  # I want to see it\n"
    )
    ensure_dagster_home(home)
    text = (home / "dagster.yaml").read_text()
    assert text.startswith("# my runs\n")  # only a section was appended: the file as the user wrote it stays
    assert _without_event_log(yaml.safe_load(text)) == {
        "run_queue": {"max_concurrent_runs": 2},
        "nux": {"enabled": True},  # an explicit choice is kept
        "telemetry": {"enabled": False},
    }
    # a section without `enabled` is merged into; a second call changes nothing
    (home / "dagster.yaml").write_text("telemetry:\n  note: x\nnux:\n")
    ensure_dagster_home(home)
    once = (home / "dagster.yaml").read_text()
    assert _without_event_log(yaml.safe_load(once)) == {
        "telemetry": {"enabled": False, "note": "x"},
        "nux": {"enabled": False},
    }
    ensure_dagster_home(home)
    assert (home / "dagster.yaml").read_text() == once


def test_the_demo_runs_in_its_own_data_dir_until_the_user_drops_a_file(tmp_path, capsys):
    real = DataPaths(tmp_path / "data")
    demo = demo_paths(real)
    assert choose_data_dir(real) == tmp_path / "data" / "demo"
    told = capsys.readouterr().err
    assert "running the bundled demo in" in told
    demo_files = sorted(p.relative_to(demo.inbox) for p in demo.inbox.rglob("*") if p.is_file())
    # the seed said "31 Backstage downloads" and the run loaded 30: one is a repeat, byte for byte (review)
    backstage = [p.read_bytes() for p in (demo.inbox / "backstage").iterdir()]
    assert f"{len(demo_files):,} files, accounts" in told and (len(backstage), len(set(backstage))) == (31, 30)
    assert "31 Backstage downloads (30 distinct: a repeat byte for byte is archived and counted once)." in told
    assert demo_files  # seeded once
    assert not real.inbox.exists() or not any(real.inbox.rglob("*"))  # nothing written into the user's inbox

    # the user's first file: from now on make run uses their data dir, and the demo is left as it was
    (real.inbox / "me").mkdir(parents=True)
    (real.inbox / "me" / "Content.csv").write_text("Time,Video title\n")
    assert choose_data_dir(real) == tmp_path / "data"
    assert sorted(p.relative_to(demo.inbox) for p in demo.inbox.rglob("*") if p.is_file()) == demo_files
    # archive, warehouse and marts of the two never overlap
    for mine, theirs in ((real.archive, demo.archive), (real.warehouse, demo.warehouse), (real.marts, demo.marts)):
        assert not mine.is_relative_to(theirs) and not theirs.is_relative_to(mine)
    # and the user's inbox walk never reaches the demo's folder
    assert not demo.root.is_relative_to(real.inbox)


def _fake_python(path: Path, version: str, ok: bool) -> Path:
    """A `python` that reports `version` and answers the Makefile's version check with `ok`."""
    path.write_text(
        f'#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Python {version}"; exit 0; fi\nexit {0 if ok else 1}\n'
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def makefile_dir(tmp_path):
    """The Makefile beside a pyproject.toml, in a scratch folder: never the project's own .venv."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(PROJECT_ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_make_says_which_python_to_use_when_the_default_is_too_old(makefile_dir):
    old = _fake_python(makefile_dir / "python3.9", "3.9.18", ok=False)
    out = subprocess.run(["make", "run", f"PYTHON={old}"], cwd=makefile_dir, capture_output=True, text=True)
    assert out.returncode == 2
    assert f"This project needs Python 3.11 or 3.12, and {old} is Python 3.9.18: run make PYTHON=python3.11 run" in (
        out.stderr
    )
    assert not (makefile_dir / ".venv").exists()


def test_a_venv_made_by_another_python_is_rebuilt(makefile_dir):
    venv_bin = makefile_dir / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (makefile_dir / ".venv" / ".installed").touch()  # newer than pyproject.toml: up to date, by its stamp
    _fake_python(venv_bin / "python", "3.11.7", ok=True)
    fresh = subprocess.run(["make", "-n", "setup"], cwd=makefile_dir, capture_output=True, text=True)
    assert "Nothing to be done" in fresh.stdout

    _fake_python(venv_bin / "python", "3.9.18", ok=False)  # the same stamp, but the venv's Python is wrong
    stale = subprocess.run(["make", "-n", "setup"], cwd=makefile_dir, capture_output=True, text=True)
    assert "was made by another Python or is broken: rebuilding it" in stale.stdout
    assert "-m venv .venv" in stale.stdout


def test_the_summary_names_trending_videos_by_title():
    assert _title("First dance  of\nthe year", "7301") == '"First dance of the year" (7301)'
    assert _title("x" * 60, "7302") == '"' + "x" * 49 + '…" (7302)'  # 50 characters shown
    assert _title("", "7303") == "video 7303"
    assert _title(None, "7304") == "video 7304"


def _compiled(prefix: Path, module_file: str, *args: str) -> list[Path]:
    """The .pyc files of `module_file` that `python *args` wrote under the pycache prefix `prefix`, run where the
    environment says not to write any (PYTHONDONTWRITEBYTECODE=1)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(prefix)}
    done = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return sorted(prefix.rglob(f"{module_file}.*.pyc"))  # (under a prefix: no __pycache__ folders)


def test_the_commands_write_bytecode_even_where_the_environment_says_not_to(tmp_path):
    """The install compiles nothing (Makefile, UV_SYNC): `python -m orchestration` writes the bytecode of what it
    imports, so that a container's PYTHONDONTWRITEBYTECODE=1 does not make every command compile Dagster, dbt and
    great-expectations again. Measured with an empty pycache prefix: what is compiled lands there."""
    # the environment's wish is honoured by Python itself: an import alone writes nothing
    assert _compiled(tmp_path / "plain", "orchestration/cli", "-c", "import orchestration.cli") == []
    assert len(_compiled(tmp_path / "command", "orchestration/cli", "-m", "orchestration", "--help")) == 1


def test_worker_processes_write_bytecode_as_their_parent_does(tmp_path):
    """A spawned worker gets -B from the environment's variable: it follows its parent's setting instead (the
    great-expectations and landing workers, and dbt's, import what the command does not; all three call
    `write_bytecode_as_parent`)."""
    module = "orchestration/lib/core/yaml_config"
    work = (
        "import sys\n"
        "sys.dont_write_bytecode = {}\n"
        "from orchestration.lib.core.workers import worker_pool\n"
        "pool = worker_pool(1)\n"
        "pool.submit(exec, 'import orchestration.lib.core.yaml_config').result()\n"
        "pool.shutdown(wait=True)\n"
    )
    assert _compiled(tmp_path / "honoured", module, "-c", work.format(True)) == []
    assert len(_compiled(tmp_path / "as_parent", module, "-c", work.format(False))) == 1


def test_a_commands_plain_subprocesses_write_bytecode_too():
    """`python -m orchestration` takes PYTHONDONTWRITEBYTECODE out of its environment (orchestration/__main__.py), so
    the plain subprocesses it starts (`dbt parse` for the manifest) write their bytecode as well. The command's
    `main` is replaced by one that starts a child Python and prints that child's flag."""
    child = "import subprocess, sys; print(subprocess.run([sys.executable, '-c', 'import sys; "
    child += "print(sys.flags.dont_write_bytecode)'], capture_output=True, text=True, check=True).stdout.strip())"
    command = f"import orchestration.cli as cli\ncli.main = lambda: exec({child!r}) or 0\n"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

    def flag_of_child(code: str) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert flag_of_child(f"{command}cli.main()") == "1"  # without the command's start: the variable reaches it
    assert flag_of_child(f"{command}import runpy\nrunpy.run_module('orchestration', run_name='__main__')") == "0"
