"""What the great-expectations checks already know: each mart's last results and what they were computed from.

A daily run changes a few published marts; validating the others again would read every file of the history
for the same answer. `<docs>/.validations/` holds GE's validation results store (the newest result per mart,
so the Data Docs index keeps listing every mart) and `<docs>/.validations.json`, per mart, a signature of its
inputs and its results. A mart is validated again when its signature changed: the published file (content
hash), what the manifest declares for it, the recency window, for a mart with a recency check, the
published file its accounts' export dates come from, and `CHECKS_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestration.lib.marts.quality import MartCheckResult, MartSpec

STORE_DIR = ".validations"  # GE's validation results store, under the Data Docs folder
RECORD_FILE = ".validations.json"  # beside it: GE reads every file in its store as a result
# Bumped when the checks or what their results say change: results recorded before are not reused.
# 2: recency validates one row per account in its own suite, `<mart>.recency`.
# 3: a failed recency check's details name its accounts first (`accounts_failing`).
# 4: GE validates frames DuckDB computes from the file (quality_frames.py); volume has its suite, `<mart>.volume`.
CHECKS_VERSION = 4


def store_dir(docs_dir: Path) -> Path:
    return Path(docs_dir) / STORE_DIR


def signature(spec: MartSpec, published: Path, recency_days: int, export_dates_file: Path | None) -> str:
    """Changes whenever the mart's check results could: see the module docstring."""
    digest = hashlib.sha256(repr((CHECKS_VERSION, asdict(spec), recency_days)).encode())
    for path in (published, export_dates_file if spec.recency_column else None):
        digest.update(_file_hash(path).encode() if path is not None and path.is_file() else b"-")
    return digest.hexdigest()


def reusable(docs_dir: Path, signatures: dict[str, str]) -> dict[str, list[MartCheckResult]]:
    """The recorded results of every mart whose signature is unchanged and whose Data Docs pages still exist,
    marked `reused` in their details."""
    from orchestration.lib.marts.quality import MartCheckResult

    docs_dir = Path(docs_dir)
    if not (docs_dir / "index.html").is_file():
        return {}
    try:
        record = json.loads((docs_dir / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        mart: [
            MartCheckResult(**{**result, "details": {**result["details"], "reused": True}})
            for result in record[mart]["results"]
        ]
        for mart, key in signatures.items()
        if isinstance(record.get(mart), dict)
        and record[mart].get("signature") == key
        and (store_dir(docs_dir) / mart).is_dir()
        and (docs_dir / "validations" / mart).is_dir()
    }


def save(docs_dir: Path, signatures: dict[str, str], results: list[MartCheckResult]) -> None:
    """Record the results of the marts that have a validation in the store (a missing mart has none)."""
    record: dict[str, Any] = {}
    for result in results:
        if result.mart in signatures:
            entry = record.setdefault(result.mart, {"signature": signatures[result.mart], "results": []})
            entry["results"].append(asdict(result))
    target = Path(docs_dir) / RECORD_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{RECORD_FILE}.{os.getpid()}")
    temporary.write_text(json.dumps(record, sort_keys=True, default=str), encoding="utf-8")
    os.replace(temporary, target)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
