"""The Dagster home under `<data>/warehouse/dagster_home`, with telemetry and the sign-up dialog off.

Dagster ignores `DO_NOT_TRACK`: only `telemetry: enabled: false` in the home's `dagster.yaml` stops it
from sending usage events, and `nux: enabled: false` stops the web UI from showing its "Join the Dagster
community" e-mail dialog (Dagster's own switch for it: `shouldShowNux` is false when it is set). Both are
added when missing; whatever else the file says, and an explicit choice for either key, is kept.

The event log is `orchestration/defs/instance_storage.py`'s pooled SQLite storage (same files as Dagster's default,
a fraction of the cost per event) unless the file chooses a storage itself (`storage:` or another
`event_log_storage:`); its `base_dir`, an absolute path, follows the home when the data directory moves.

`python -m orchestration.lib.core.dagster_home <dir>` does the same from the Makefile.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

QUIET = {"telemetry": {"enabled": False}, "nux": {"enabled": False}}
EVENT_LOG_MODULE = "orchestration.defs.instance_storage"
EVENT_LOG_CLASS = "PooledSqliteEventLogStorage"
# DAGSTER_EVENT_BATCH_SIZE for a run of the daily job: its ~580 planned events reach the event log as one batch,
# stored in one transaction per database (`defs/instance_storage.py`); the Makefile exports the same for `make ui`.
PLANNED_EVENTS_BATCH = 1000


def ensure_dagster_home(home: Path) -> Path:
    """Create the Dagster home; its dagster.yaml says telemetry and the sign-up dialog are off, and (unless it
    chose a storage) names the pooled event log."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    config_file = home / "dagster.yaml"
    text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    config = yaml.safe_load(text) or {}
    if not isinstance(config, dict):
        raise ValueError(f"{config_file} is not a YAML mapping; fix or remove it (Dagster cannot read it either)")
    missing = {key: value for key, value in QUIET.items() if not isinstance(config.get(key), dict)}
    partial = {
        key: value for key, value in QUIET.items() if isinstance(config.get(key), dict) and "enabled" not in config[key]
    }
    event_log = _event_log_storage(home, config)
    if event_log is not None and "event_log_storage" not in config:
        missing["event_log_storage"] = event_log
    moved = event_log is not None and "event_log_storage" in config and config["event_log_storage"] != event_log
    if not missing and not partial and not moved:
        return config_file
    if partial or moved or any(key in config for key in missing):  # merge (comments are lost, settings kept)
        for key, value in QUIET.items():
            section = config.get(key)
            config[key] = {**value, **section} if isinstance(section, dict) else value
        if event_log is not None:
            config["event_log_storage"] = event_log
        text = yaml.safe_dump(config, sort_keys=False)
    else:  # only whole sections missing: append them, keeping the user's file as written
        text = (text.rstrip("\n") + "\n" if text.strip() else "") + yaml.safe_dump(missing, sort_keys=False)
    temporary = config_file.with_name(f".dagster.yaml.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, config_file)
    return config_file


def _event_log_storage(home: Path, config: dict) -> dict | None:
    """Our event log section for this home, or None when the file chose another storage (kept as it is)."""
    current = config.get("event_log_storage")
    if "storage" in config or (
        current is not None and not (isinstance(current, dict) and current.get("module") == EVENT_LOG_MODULE)
    ):
        return None
    base_dir = str(home.resolve() / "history" / "runs")  # where Dagster's default SQLite storage keeps it
    return {"module": EVENT_LOG_MODULE, "class": EVENT_LOG_CLASS, "config": {"base_dir": base_dir}}


if __name__ == "__main__":
    ensure_dagster_home(Path(sys.argv[1]))
