"""Publish marts where BI tools read them, without ever touching the pipeline's working database.

Each mart is written as an immutable version, `<data>/marts/versions/<model>/v<key>-<hash>.parquet`,
whose key counts down (`999999999 - n` for the n-th version), so the newest version sorts first. A path is
never reused for other bytes: DuckDB opens a parquet file at bind time and again while scanning, and a
file replaced in between is decoded half old, half new ("TProtocolException: Invalid data").

`analytics.duckdb` is a tiny catalog of one view per mart, stored in DuckDB's v1.0.0 storage format so
DuckDB 1.x readers (CLI, BI drivers) open it. A view selects the newest version *at query time* (the
first file of the folder's listing, which DuckDB opens at bind; DuckDB 1.4.5 and 2.0 prune older files by
the filename filter and never open them, but DuckDB 1.0.0 opens every file of the folder, so its readers fail
on a mart whose columns changed until the replaced version is deleted), so a BI tool that keeps one
connection open sees each new publication. The catalog itself is rewritten only when the set of marts, the data
directory, or a mart's column names or types change (DuckDB 1.x stores a view's columns when it is created
and refuses the view once its query binds to others).

Every mart is written first (to a temporary name no view matches), then all are switched in one after the other,
a millisecond or two for the whole set: a BI query joining marts meanwhile sees one run's set or the next one's.
An unchanged mart (same bytes: rows are written in a total order) gets no new version. An old version
is deleted once the version that replaced it has been current for `grace` (15 minutes by default), so a
query that began before the switch has had time to finish; the newest version is never deleted.

`<data>/marts/<model>.parquet` is a hard link to the newest version (replaced atomically), for tools
that read a parquet file once from start to end (pandas, Polars, Power BI). Code in this repository
finds the current file with `current_parquet(marts_dir, model)`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import duckdb

GRACE = timedelta(minutes=15)
CATALOG_STORAGE_VERSION = "v1.0.0"  # the oldest DuckDB whose readers should open the catalog
_TOP_KEY = 999_999_999
_VERSION = re.compile(r"^v(\d{9})-([0-9a-f]{16})\.parquet$")


def versions_dir(marts_dir: Path, model: str) -> Path:
    return Path(marts_dir) / "versions" / model


def list_versions(marts_dir: Path, model: str) -> list[Path]:
    """The model's published versions, newest first."""
    folder = versions_dir(marts_dir, model)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _VERSION.match(p.name))


def current_parquet(marts_dir: Path, model: str) -> Path | None:
    """The newest published version of `model` (an immutable file), or None if it was never published."""
    versions = list_versions(marts_dir, model)
    return versions[0] if versions else None


def publish_marts(
    warehouse_db: Path, marts_dir: Path, models: list[str], *, grace: timedelta = GRACE
) -> dict[str, dict]:
    """Publish one new version per changed mart; returns per-model rows, whether it changed, and its path."""
    marts_dir = Path(marts_dir)
    marts_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_db), read_only=True)
    cursors = []
    try:
        # Two marts at a time, each on a cursor of its own: DuckDB writes one parquet file on about one core (its
        # sort and zstd), so the second core would idle (300 x 90 marts: 0.84-0.92 -> 0.66-0.71 s, same bytes).
        cursors = [con.cursor() for _ in models]  # made here, where `con` is used; each then used by one thread
        stop = threading.Event()  # a mart failed, or Ctrl-C: as the one-by-one loop did, start no further mart

        def write_one(model: str, cursor: duckdb.DuckDBPyConnection) -> tuple[Path, int, str] | None:
            if stop.is_set():
                return None
            try:
                return _written(cursor, marts_dir, model)
            except BaseException:
                stop.set()
                raise

        with ThreadPoolExecutor(PUBLISH_THREADS, thread_name_prefix="publish") as pool:
            tasks = [pool.submit(write_one, model, cursor) for model, cursor in zip(models, cursors, strict=True)]
            try:
                written = [task.result() for task in tasks]
            except BaseException:
                stop.set()
                for cursor in cursors:
                    cursor.interrupt()  # the COPY still running stops; the pool is waited for before leaving
                for task in tasks:  # what was written goes: no mart of this run is switched in
                    if not task.cancelled() and task.exception() is None and task.result() is not None:
                        task.result()[0].unlink(missing_ok=True)
                raise
    finally:
        for cursor in cursors:  # none busy: the pool has ended
            cursor.close()
        con.close()
    # Every mart written first, then all switched in one after the other (a millisecond or two, not the seconds
    # the writing takes): a BI tool reading several marts meanwhile rarely sees some new and some old.
    published = []
    try:
        for model, files in zip(models, written, strict=True):
            published.append(_switched(marts_dir, model, files))
    finally:  # stopped half-way (Ctrl-C): the marts not switched in leave no temporary behind
        for files in written[len(published) :]:
            files[0].unlink(missing_ok=True)
    for model in models:
        remove_old_versions(marts_dir, model, grace=grace)
    write_catalog(marts_dir, models)
    return dict(zip(models, published, strict=True))


PUBLISH_THREADS = 2


def _written(cursor: duckdb.DuckDBPyConnection, marts_dir: Path, model: str) -> tuple[Path, int, str]:
    """The mart written to a temporary file no view sees: (the file, its rows, its digest)."""
    folder = versions_dir(marts_dir, model)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f".{model}.*.tmp"):  # a killed run's (one run at a time: none is being written)
        stale.unlink(missing_ok=True)
    temporary = folder / f".{model}.{os.getpid()}.tmp"
    (rows,) = cursor.execute(  # COPY answers with the number of rows it wrote
        f"copy (select * from marts.{model} order by all) to '{temporary}' (format parquet, compression zstd)"
    ).fetchone()
    return temporary, rows, _digest(temporary)[:16]


def _switched(marts_dir: Path, model: str, written: tuple[Path, int, str]) -> dict:
    """The written mart made its newest version (a new name: no reader has it open yet), unless it is the current
    one's bytes; `<model>.parquet` pointed at it."""
    temporary, rows, digest = written
    current = current_parquet(marts_dir, model)
    changed = current is None or _VERSION.match(current.name).group(2) != digest
    if changed:
        key = _TOP_KEY if current is None else int(_VERSION.match(current.name).group(1)) - 1
        current = versions_dir(marts_dir, model) / f"v{key:09d}-{digest}.parquet"
        os.replace(temporary, current)
        os.utime(current)  # switched in now: the replaced version's grace (remove_old_versions) starts here
    else:
        temporary.unlink()
    _link_stable(current, marts_dir / f"{model}.parquet")
    return {"rows": rows, "changed": changed, "path": str(current)}


def remove_old_versions(
    marts_dir: Path, model: str, *, grace: timedelta = GRACE, now: float | None = None
) -> list[Path]:
    """Delete each version whose successor was published more than `grace` ago; never the newest."""
    now = time.time() if now is None else now
    versions = list_versions(marts_dir, model)
    removed = []
    published = [v.stat().st_mtime for v in versions]  # a version's mtime: when it replaced the one after it
    for replaced_at, older in zip(published, versions[1:], strict=False):
        if now - replaced_at > grace.total_seconds():
            older.unlink(missing_ok=True)
            removed.append(older)
    return removed


def view_sql(marts_dir: Path, model: str) -> str:
    """The catalog view: the newest version, chosen when a query runs (DuckDB 1.0 SQL)."""
    # Absolute paths: a view must resolve wherever the BI tool's working directory is.
    pattern = f"{versions_dir(marts_dir, model).resolve()}/v*.parquet"
    # The newest file is chosen before read_parquet lists the folder (FROM items bind left to right), so a
    # version published in between is simply not seen yet by this query, never a reason for zero rows.
    return (
        f"select v.* exclude (filename) from (select min(file) as newest from glob('{pattern}')) as c, "
        f"read_parquet('{pattern}', filename = true) as v where v.filename = c.newest"
    )


def write_catalog(marts_dir: Path, models: list[str]) -> Path:
    """(Re)build analytics.duckdb when its views differ from what `models` need (their SQL, or the column names
    and types the current versions bind to), swapped in atomically."""
    marts_dir = Path(marts_dir)
    catalog = marts_dir / "analytics.duckdb"
    wanted = {model: view_sql(marts_dir, model) for model in models}
    if _catalog_views(catalog) == _wanted_views(wanted):
        return catalog  # keep the file: readers with an open connection keep working and see new versions
    temporary = marts_dir / f".analytics.{os.getpid()}.duckdb.tmp"
    temporary.unlink(missing_ok=True)
    con = duckdb.connect(str(temporary), config={"storage_compatibility_version": CATALOG_STORAGE_VERSION})
    try:
        for model, sql in wanted.items():
            con.execute(f"create or replace view {model} as {sql}")
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(temporary, catalog)
    return catalog


def _catalog_views(catalog: Path) -> dict[str, tuple[str, list[tuple[str, str]]]] | None:
    """The catalog's views as DuckDB stores them (name → sql, columns); None when it cannot be read."""
    if not catalog.exists():
        return None
    try:
        con = duckdb.connect(str(catalog), read_only=True)
    except duckdb.Error:
        return None
    try:
        return _views(con)
    finally:
        con.close()


def _wanted_views(wanted: dict[str, str]) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """The same views as DuckDB would store them (its own normalisation of the SQL; the columns of the newest
    version, read from its parquet footer as creating a view binds it), for comparison."""
    con = duckdb.connect()
    try:
        for model, sql in wanted.items():
            con.execute(f"create view {model} as {sql}")
        return _views(con)
    finally:
        con.close()


def _views(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Each view's SQL and the columns (name, type) DuckDB stored with it when the view was created."""
    # DuckDB 1.x readers refuse a view whose query now binds to other names or types ("Contents of view were
    # altered"), so a mart whose columns changed needs its view made again, same SQL or not.
    rows = con.execute(
        "select v.view_name, v.sql, list((c.column_name, c.data_type) order by c.column_index) "
        "from duckdb_views() as v join duckdb_columns() as c on c.table_oid = v.view_oid "
        "where not v.internal group by all"
    ).fetchall()
    return {name: (sql, [tuple(column) for column in columns]) for name, sql, columns in rows}


def _link_stable(version: Path, stable: Path) -> None:
    """Point `<model>.parquet` at `version` atomically: a hard link, or a copy where links are refused."""
    temporary = stable.with_name(f".{stable.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        os.link(version, temporary)
    except OSError:
        shutil.copyfile(version, temporary)
    os.replace(temporary, stable)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
