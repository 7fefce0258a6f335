"""What counts as a received file in the inbox (the rest is what browsers and operating systems leave)."""

from __future__ import annotations

from pathlib import Path

# Partial downloads and OS litter are not received files.
IGNORED_SUFFIXES = (".crdownload", ".part", ".partial", ".tmp", ".download")


def is_received_file(path: Path) -> bool:
    name = path.name
    return not (name.startswith((".", "~$")) or name.lower().endswith(IGNORED_SUFFIXES))
