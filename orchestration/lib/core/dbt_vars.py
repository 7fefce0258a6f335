"""The dbt project's vars (dbt_project.yml), for the Python steps that must agree with the models.

`account_handle_aliases` ({former handle: current handle}): the staging models count every file received under a
former handle as the current account's (macros/canonical_handle.sql); the landing's Content check
(lib/studio/validation.py) takes a video link naming either handle as the account's own. Both read the same var
and refuse the same mistakes: a value that is no @handle, or a former handle mapped to another former one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from orchestration.lib.core.paths import DBT_PROJECT_DIR
from orchestration.lib.core.receipts import normalise_handle

HANDLE_ALIASES_VAR = "account_handle_aliases"


def project_vars(project_dir: Path = DBT_PROJECT_DIR) -> dict:
    """The `vars:` of dbt_project.yml."""
    return (yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}).get("vars") or {}


def handle_aliases(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, str]:
    """Former handle → current handle, as the landing writes handles (lower case, no @); {} when none.
    Read again when dbt_project.yml changes."""
    path = project_dir / "dbt_project.yml"
    return dict(_aliases(project_dir, path.stat().st_mtime_ns))


@lru_cache(maxsize=4)
def _aliases(project_dir: Path, _stamp: int) -> tuple[tuple[str, str], ...]:
    declared = project_vars(project_dir).get(HANDLE_ALIASES_VAR) or {}
    where = f"{project_dir / 'dbt_project.yml'}: vars.{HANDLE_ALIASES_VAR}"
    if not isinstance(declared, dict):
        raise ValueError(f"{where}: a mapping {{former handle: current handle}}, not {declared!r}")
    mapping = {}
    for former, current in declared.items():
        pair = normalise_handle(str(former)), normalise_handle(str(current))
        if None in pair:
            bad = former if pair[0] is None else current
            raise ValueError(f"{where}: '{bad}' is not a TikTok @handle")
        mapping[pair[0]] = pair[1]
    for former, current in mapping.items():
        if current in mapping:
            raise ValueError(
                f"{where}: @{former} maps to @{current}, itself a former handle: map every former handle to the "
                "current one"
            )
    return tuple(sorted(mapping.items()))
