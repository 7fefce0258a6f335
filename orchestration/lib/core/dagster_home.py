"""The Dagster home under `<data>/warehouse/dagster_home`, with telemetry and the sign-up dialog off.

Dagster ignores `DO_NOT_TRACK`: only `telemetry: enabled: false` in the home's `dagster.yaml` stops it
from sending usage events, and `nux: enabled: false` stops the web UI from showing its "Join the Dagster
community" e-mail dialog (Dagster's own switch for it: `shouldShowNux` is false when it is set). Both are
added when missing; whatever else the file says, and an explicit choice for either key, is kept.

`python -m orchestration.lib.core.dagster_home <dir>` does the same from the Makefile.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

QUIET = {"telemetry": {"enabled": False}, "nux": {"enabled": False}}


def ensure_dagster_home(home: Path) -> Path:
    """Create the Dagster home and make its dagster.yaml say telemetry and the sign-up dialog are off."""
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
    if not missing and not partial:
        return config_file
    if partial or any(key in config for key in missing):  # merge (the file's comments are lost, settings kept)
        for key, value in QUIET.items():
            section = config.get(key)
            config[key] = {**value, **section} if isinstance(section, dict) else value
        text = yaml.safe_dump(config, sort_keys=False)
    else:  # only whole sections missing: append them, keeping the user's file as written
        text = (text.rstrip("\n") + "\n" if text.strip() else "") + yaml.safe_dump(missing, sort_keys=False)
    temporary = config_file.with_name(f".dagster.yaml.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, config_file)
    return config_file


if __name__ == "__main__":
    ensure_dagster_home(Path(sys.argv[1]))
