"""dbt's manifest (`dbt_project/target/manifest.json`), parsed again only when the dbt project changed.

Dagster loads the dbt assets from the manifest, and `dbt parse` costs seconds. What it produces depends on
the project's own files (models, macros, tests, seeds, YAML, `dbt_project.yml`, `profiles.yml`, packages),
the dbt version and the environment variables those files read while parsing; not on the data directory
(the warehouse path only names the database `pipeline`, the same in every data dir). `ensure_manifest()`
hashes those inputs and reuses the manifest while the hash matches the one recorded beside it after the
last parse; otherwise it parses into a scratch folder and moves the result in place (a reader never sees
half a manifest), one process at a time.

`python -m orchestration.lib.core.dbt_manifest` does the same from the Makefile (`make prepare`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from orchestration.lib.core.paths import DBT_PROJECT_DIR

# What `dbt parse` reads, relative to the project: folders (every file in them) and single files.
INPUT_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses", "dbt_packages")
INPUT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "packages.yml",
    "dependencies.yml",
    "package-lock.yml",
    "selectors.yml",
)
DBT_DISTRIBUTIONS = ("dbt-core", "dbt-adapters", "dbt-common", "dbt-duckdb")
FINGERPRINT_FILE = "manifest.fingerprint"
# Artifacts moved from the scratch folder into target/: the manifest Dagster reads, and dbt's parse state,
# from which the in-process parse (`dbt_invocation.parsed_manifest`) re-reads only what changed.
ARTIFACTS = ("manifest.json", "partial_parse.msgpack")
# dbt keeps its parse state only for the same rendered profile, and the profile's warehouse path follows
# TIKTOK_DATA_DIR: every parse (here and in process, `dbt_invocation`) runs with it unset, so one parse state
# serves every data directory. Parsing opens no database; the data directory matters only when dbt builds.
PARSE_ENVIRONMENT: dict[str, str | None] = {"TIKTOK_DATA_DIR": None}
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")


def manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return project_dir / "target" / "manifest.json"


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A hash of everything the parsed manifest depends on; equal hashes give equal manifests."""
    digest = hashlib.sha256()
    env_vars: set[str] = set()
    for path in _input_files(project_dir):
        content = path.read_bytes()
        digest.update(f"{path.relative_to(project_dir).as_posix()}\0{len(content)}\0".encode())
        digest.update(content)
        # profiles.yml only tells dbt where the warehouse is, which no parsed node depends on
        if path.name != "profiles.yml" and path.suffix in (".sql", ".yml", ".yaml", ".md", ".csv"):
            env_vars.update(_ENV_VAR.findall(content.decode("utf-8", "replace")))
    for name in sorted(env_vars):
        digest.update(f"env {name}={os.environ.get(name)!r}\n".encode())
    digest.update(f"parsed with {sorted(PARSE_ENVIRONMENT.items())}\n".encode())  # the parse state's profile
    for distribution in DBT_DISTRIBUTIONS:
        digest.update(f"{distribution}=={_version(distribution)}\n".encode())
    return digest.hexdigest()


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """Make `target/manifest.json` current; True when it had to be parsed, False when it was reused."""
    target = project_dir / "target"
    target.mkdir(exist_ok=True)
    with open(target / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be parsing right now: wait for it
        fingerprint = project_fingerprint(project_dir)
        recorded = target / FINGERPRINT_FILE
        if manifest_path(project_dir).exists() and recorded.exists() and recorded.read_text().strip() == fingerprint:
            return False
        _parse(project_dir, target)
        temporary = recorded.with_name(f".{FINGERPRINT_FILE}.{os.getpid()}")
        temporary.write_text(fingerprint + "\n")
        os.replace(temporary, recorded)
        return True


def dbt_executable() -> str:
    """The dbt installed with this environment, so nothing depends on an activated venv or PATH."""
    for candidate in (Path(sys.prefix) / "bin" / "dbt", Path(sys.executable).with_name("dbt")):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


def _parse(project_dir: Path, target: Path) -> None:
    scratch = target / f".parse-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        if (target / "partial_parse.msgpack").exists():  # lets dbt re-read only the files that changed
            shutil.copyfile(target / "partial_parse.msgpack", scratch / "partial_parse.msgpack")
        command = [dbt_executable(), "parse", "--quiet", "--project-dir", str(project_dir), "--profiles-dir"]
        command += [str(project_dir), "--target-path", str(scratch), "--log-path", str(scratch)]
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **PARSE_ENVIRONMENT}
        env = {name: value for name, value in env.items() if value is not None}  # one state for every data dir
        done = subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"dbt parse failed in {project_dir}:\n{done.stdout}{done.stderr}".rstrip())
        for artifact in ARTIFACTS:
            if (scratch / artifact).exists():
                os.replace(scratch / artifact, target / artifact)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _input_files(project_dir: Path) -> list[Path]:
    files = [project_dir / name for name in INPUT_FILES if (project_dir / name).is_file()]
    for folder in INPUT_FOLDERS:
        if (project_dir / folder).is_dir():
            files += [
                p
                for p in (project_dir / folder).rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(project_dir).parts)
            ]
    return sorted(files)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@contextmanager
def dbt_environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set `values` in os.environ for one dbt call (None: unset it), then put back what was there: dbt reads
    `env_var()` from the process environment, also when it runs in this process."""
    before = {name: os.environ.get(name) for name in values}
    _set_environment(values)
    try:
        yield
    finally:
        _set_environment(before)


def _set_environment(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


if __name__ == "__main__":
    parsed = ensure_manifest()
    print(
        "dbt manifest: parsed (the dbt project changed)" if parsed else "dbt manifest: reused (dbt project unchanged)"
    )
