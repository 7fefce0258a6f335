"""The dbt project's vars (dbt_project.yml), for the Python steps that must agree with the models.

`account_handle_aliases` ({former handle: current handle}): the staging models count every file received under a
former handle as the current account's (macros/canonical_handle.sql); the landing's Content check
(lib/studio/validation.py) takes a video link naming either handle as the account's own. Both read the same var
and refuse the same mistakes: a value that is no @handle, or a former handle mapped to another former one.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import yaml

from orchestration.lib.core.paths import DBT_PROJECT_DIR
from orchestration.lib.core.receipts import normalise_handle

HANDLE_ALIASES_VAR = "account_handle_aliases"
# Vars that move rows from one key to another (an account, a LIVE's day): an incremental build would keep the rows
# under their old keys beside the new ones, so a change of any of them makes the next build a full refresh. A zone
# from accounts.yml is data, not a var: dbt_selection.moved_live_zones compares it with the one the marts used.
KEYING_VARS = (HANDLE_ALIASES_VAR, "live_account_timezones", "live_default_timezone")
# Vars that shape the values of rows already built (a rate, a threshold, a window): an incremental build applies a
# new value from its window on only, so a change makes the next build a full refresh too. The others move no row:
# `min_date` (the build window itself) and `max_engagement_rate` (a test's bound).
VALUE_VARS = (
    "diamond_usd_rate",
    "provisional_days",
    "trending_window_days",
    "trending_top_n",
    "outlier_age_buckets",
    "outlier_min_peers",
    "outlier_breakout_score",
    "backstage_duration_rounding_s",
)
REBUILD_VARS = (*KEYING_VARS, *VALUE_VARS)
VARS_MOVING_NO_ROW = ("min_date", "max_engagement_rate")


def project_vars(project_dir: Path = DBT_PROJECT_DIR) -> dict:
    """The `vars:` of dbt_project.yml."""
    return (yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}).get("vars") or {}


def keying_vars_digest(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A digest of what the `REBUILD_VARS` mean, as the models read them: handles normalised (`'@Old_Name'` is
    `old_name`, a handle YAML reads as a number is its digits), so rewriting a value the same way changes nothing."""
    declared = project_vars(project_dir)
    zones = declared.get("live_account_timezones") or {}
    meaning = {
        HANDLE_ALIASES_VAR: sorted(handle_aliases(project_dir).items()),
        "live_account_timezones": sorted(
            (normalise_handle(str(handle)) or str(handle), str(zone)) for handle, zone in dict(zones).items()
        ),
        "live_default_timezone": str(declared.get("live_default_timezone")),
        **{name: declared.get(name) for name in VALUE_VARS},
    }
    return hashlib.sha256(json.dumps(meaning, sort_keys=True, default=str).encode()).hexdigest()


def live_zone_handles(project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """The accounts the var `live_account_timezones` gives a zone, keyed as int_live_accounts__timezones keys them
    (a former handle names its current account): their zone never comes from an API pull."""
    aliases = handle_aliases(project_dir)
    zones = project_vars(project_dir).get("live_account_timezones") or {}
    handles = (normalise_handle(str(handle)) or str(handle) for handle in dict(zones))
    return sorted({aliases.get(handle, handle) for handle in handles})


def handle_aliases(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, str]:
    """Former handle → current handle, as the landing writes handles (lower case, no @); {} when none.
    Read again when dbt_project.yml changes."""
    path = project_dir / "dbt_project.yml"
    return dict(_aliases(project_dir, path.stat().st_mtime_ns))


def account_handles(handle: str, aliases: dict[str, str]) -> list[str]:
    """Every handle of `handle`'s account under `aliases`: its current one and all its former ones, sorted."""
    current = aliases.get(handle, handle)
    return sorted({handle, current, *(former for former, now in aliases.items() if now == current)})


@lru_cache(maxsize=4)
def _aliases(project_dir: Path, _stamp: int) -> tuple[tuple[str, str], ...]:
    declared = project_vars(project_dir).get(HANDLE_ALIASES_VAR) or {}
    where = f"{project_dir / 'dbt_project.yml'}: vars.{HANDLE_ALIASES_VAR}"
    if not isinstance(declared, dict):
        raise ValueError(f"{where}: a mapping {{former handle: current handle}}, not {declared!r}")
    mapping = {}
    for former, current in declared.items():
        # YAML reads `old:` with no value as None, `yes` as True: never a handle, even spelled out
        pair = tuple(normalise_handle(str(h)) if isinstance(h, str | int) and not isinstance(h, bool) else None
                     for h in (former, current))  # fmt: skip
        if None in pair:
            bad = former if pair[0] is None else current
            raise ValueError(f"{where}: {bad!r} is not a TikTok @handle")
        mapping[pair[0]] = pair[1]
    for former, current in mapping.items():
        if current in mapping:
            raise ValueError(
                f"{where}: @{former} maps to @{current}, itself a former handle: map every former handle to the "
                "current one"
            )
    return tuple(sorted(mapping.items()))
