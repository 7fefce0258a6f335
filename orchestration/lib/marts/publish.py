"""Publish marts where BI tools read them, without ever touching the pipeline's working database.

Each mart becomes `<data>/marts/<model>.parquet`, written to a temporary file and renamed into place,
so a reader sees the old file or the new one, never half of one. Rows are written in a total order,
so the same marts give the same bytes and an unchanged mart is not rewritten at all.
`analytics.duckdb` is a tiny catalog of views over those files that BI tools open read-only.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb


def publish_marts(warehouse_db: Path, marts_dir: Path, models: list[str]) -> dict[str, dict]:
    """Write one parquet file per mart; returns per-model row counts and whether the file changed."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        for model in models:
            target = marts_dir / f"{model}.parquet"
            temporary = marts_dir / f".{model}.parquet.{os.getpid()}.tmp"
            (rows,) = con.execute(  # COPY answers with the number of rows it wrote
                f"copy (select * from marts.{model} order by all) to '{temporary}' (format parquet, compression zstd)"
            ).fetchone()
            changed = not target.exists() or _digest(target) != _digest(temporary)
            if changed:
                os.replace(temporary, target)
            else:
                temporary.unlink()
            results[model] = {"rows": rows, "changed": changed, "path": str(target)}
    finally:
        con.close()
    write_catalog(marts_dir, models)
    return results


def write_catalog(marts_dir: Path, models: list[str]) -> Path:
    """(Re)build analytics.duckdb: one view per published parquet file, swapped in atomically."""
    catalog = marts_dir / "analytics.duckdb"
    temporary = marts_dir / f".analytics.{os.getpid()}.duckdb.tmp"
    temporary.unlink(missing_ok=True)
    con = duckdb.connect(str(temporary))
    try:
        for model in models:
            # Absolute paths: a view must resolve wherever the BI tool's working directory is.
            parquet = (marts_dir / f"{model}.parquet").resolve()
            con.execute(f"create or replace view {model} as select * from read_parquet('{parquet}')")
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(temporary, catalog)
    return catalog


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
