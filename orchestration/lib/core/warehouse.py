"""The working DuckDB: raw tables the landing step writes and dbt reads.

Loads are idempotent per document: rows of a document are deleted and re-inserted in one
transaction, so a rerun or a replay of the archive never doubles anything.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.api_contracts import API_CONTRACTS
from schemas.live_contracts import LIVE_CONTRACTS
from schemas.studio_contracts import CONTRACTS
from schemas.studio_files import LINEAGE_COLUMNS

# Every raw data table starts with these, so any row traces back to the received file (or API pull) and line.
_LINEAGE_DDL = (
    "document_id varchar not null, account_handle varchar not null, export_date date not null, "
    "exported_at timestamp not null, source_row integer not null"
)


def _sql_type(name: str, dtype: str) -> str:
    """The DuckDB type of a contract column: the contract is the one definition of a raw table."""
    if dtype.startswith("datetime64"):
        return "timestamp" if name.endswith("_at") else "date"
    return {"Int64": "bigint", "int64": "bigint", "Float64": "double", "boolean": "boolean", "bool": "boolean"}.get(
        dtype, "varchar"
    )


def _data_columns(contract) -> dict[str, str]:
    return {
        name: _sql_type(name, str(column.dtype))
        for name, column in contract.columns.items()
        if name not in LINEAGE_COLUMNS
    }


# Raw tables, generated from the pandera contracts (schemas/): table → {column: SQL type}, lineage excluded.
# Studio tables are raw.studio_<kind>; TikTok API tables are created always (empty without accounts.yml),
# so dbt staging works on a warehouse that never pulled anything. For API rows, document_id is the
# pull_id of one endpoint pull, export_date the account-local day of the pull, exported_at the pull time.
RAW_TABLE_COLUMNS: dict[str, dict[str, str]] = {kind: _data_columns(c) for kind, c in CONTRACTS.items()}
API_RAW_TABLE_COLUMNS: dict[str, dict[str, str]] = {t: _data_columns(c) for t, c in API_CONTRACTS.items()}
# TikTok LIVE (docs/live.md): event logs and their sessions, Backstage creator exports, LIVE Center daily files.
LIVE_RAW_TABLE_COLUMNS: dict[str, dict[str, str]] = {t: _data_columns(c) for t, c in LIVE_CONTRACTS.items()}


def _create_table(table: str, columns: dict[str, str]) -> str:
    data = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
    return f"create table if not exists raw.{table} ({_LINEAGE_DDL}, {data})"


_DDL = [
    "create schema if not exists raw",
    "create schema if not exists landing",
    *(_create_table(f"studio_{kind}", columns) for kind, columns in RAW_TABLE_COLUMNS.items()),
    *(_create_table(table, columns) for table, columns in API_RAW_TABLE_COLUMNS.items()),
    *(_create_table(table, columns) for table, columns in LIVE_RAW_TABLE_COLUMNS.items()),
    """create table if not exists raw.documents (
        document_id varchar primary key, archive_sha256 varchar not null, member_name varchar,
        original_name varchar not null, account_handle varchar, file_kind varchar, export_date date,
        export_date_source varchar, exported_at timestamp, status varchar not null, row_count integer,
        quarantine_reason varchar, landed_at timestamp not null, first_metric_date date,
        last_metric_date date, inner_zip_sha256 varchar)""",
    # One row per receipt (the same bytes at two inbox paths are two rows), as in manifest.jsonl.
    """create table if not exists raw.archive_manifest (
        sha256 varchar not null, inbox_path varchar not null, original_name varchar not null,
        archive_path varchar not null, account_handle varchar, file_kind varchar, export_date date,
        export_date_source varchar, size_bytes bigint, source_mtime timestamp, received_at timestamp,
        primary key (sha256, inbox_path))""",
    # Plausibility flags of landed rows (schemas/studio_contracts.py, severity model): the rows are in the raw
    # tables, the flags say what to look at. Replaced per document with its rows. source_row is null for a
    # flag about the whole file (shares not summing to 1).
    """create table if not exists raw.row_flags (
        document_id varchar not null, file varchar not null, source_row integer, column_name varchar,
        rule varchar not null, value varchar, severity varchar not null, message varchar not null,
        landed_at timestamp not null)""",
    # Remembers inbox files already hashed, so a scan costs a stat per file, not a read.
    """create table if not exists landing.inbox_files (
        inbox_path varchar primary key, size_bytes bigint not null, mtime_ns bigint not null,
        sha256 varchar not null)""",
    # The inbox folders a scan need not list again (core.receipts): on-disk relative path, stamp when
    # listed, and entries (name, kind, size, mtime_ns, NUL-separated: names are bytes, maybe not UTF-8).
    """create table if not exists landing.inbox_folders (
        folder blob primary key, stamp varchar not null, entries blob not null)""",
    # When the inbox was last walked without that cache (core.receipts: every TIKTOK_FULL_SCAN_DAYS days).
    "create table if not exists landing.inbox_full_scan (scanned_at timestamp not null)",
    # manifest.jsonl's identity with raw.archive_manifest's key digest, and its row count, when the two held exactly
    # the same receipts: while both are unchanged, a landing asks the table which receipts are recorded instead of
    # reading the whole file (`core.receipt_manifest`). Whatever else writes raw.archive_manifest deletes this row.
    "create table if not exists landing.manifest_stamp (stamp varchar not null, receipts bigint not null)",
    # Until when the run summary told what landed (`studio.run_summary.summary_since`): a run stopped or failed after
    # its landing printed none, so the next summary tells its files too.
    "create table if not exists landing.run_summary_told (told_through timestamp not null)",
    # One row per endpoint pull, loaded or not: the API archive's queryable manifest and pull log.
    """create table if not exists raw.api_pulls (
        pull_id varchar primary key, account_handle varchar not null, api varchar not null,
        endpoint varchar not null, purpose varchar not null, metric_date date, requested_start_date date,
        requested_end_date date, timezone varchar not null, pulled_at timestamp not null,
        finished_at timestamp, status varchar not null, pages integer, http_requests integer,
        rows_loaded integer, videos_listed integer, videos_expected integer, reason varchar,
        archive_path varchar, archive_sha256 varchar, landed_at timestamp not null)""",
]


# The tables `_DDL` creates, as schema.table: `_schema_current` checks these only, so `_DDL` holds nothing but
# `create schema if not exists` and `create table if not exists` (tests/test_warehouse_connect.py).
_TABLE_DDL = re.compile(r"create table if not exists (\w+\.\w+) ")
_DDL_TABLES = [match.group(1) for match in map(_TABLE_DDL.match, _DDL) if match]
# Columns added to a table since warehouses were first built: `alter table ... add column if not exists`, after `_DDL`
_ADDED_COLUMNS = [("raw", "documents", "inner_zip_sha256", "varchar")]  # (schema, table, column, type)
_OLD_MANIFEST_KEY = """select 1 from duckdb_constraints() where schema_name = 'raw' and table_name = 'archive_manifest'
    and constraint_type = 'PRIMARY KEY' and constraint_column_names = ['sha256']"""


def connect(database: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    database.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database), read_only=read_only)
    try:
        if not read_only and not _schema_current(con):
            _migrate_archive_manifest(con)
            for statement in _DDL:
                con.execute(statement)
            for schema, table, column, sql_type in _ADDED_COLUMNS:
                con.execute(f"alter table {schema}.{table} add column if not exists {column} {sql_type}")
            # a new warehouse: every document it will hold is untold until a summary tells it (a warehouse of
            # documents from before this table tells only the next run's own, as summaries did before)
            con.execute(
                """insert into landing.run_summary_told select timestamp '1970-01-01'
                where not exists (select 1 from landing.run_summary_told)
                  and not exists (select 1 from raw.documents)"""
            )
    except BaseException:
        con.close()  # else the file stays locked by this process until the connection is collected
        raise
    return con


def _schema_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `_DDL` and the migration would change nothing: every table there, every added column, the manifest
    keyed by receipt. One catalog query (~1-3 ms) instead of the 32 statements (~13 ms), on every writable open."""
    added = [".".join(column[:3]) for column in _ADDED_COLUMNS]
    # fetchall, not fetchone: a result left unfinished would make the caller's next `register` fail (DuckDB 2)
    ((current,),) = con.execute(
        f"""select (select count(*) from duckdb_tables() where database_name = current_database()
            and list_contains($1, schema_name || '.' || table_name)) = len($1)
            and (select count(*) from duckdb_columns() where database_name = current_database()
                 and list_contains($2, schema_name || '.' || table_name || '.' || column_name)) = len($2)
            and not exists ({_OLD_MANIFEST_KEY})""",
        [_DDL_TABLES, added],
    ).fetchall()
    return current


def _migrate_archive_manifest(con: duckdb.DuckDBPyConnection) -> None:
    """Before receipts, raw.archive_manifest had one row per sha256 and a second receipt of the same bytes
    was dropped: re-key it, and forget which inbox files were hashed so the next scan records those receipts."""
    old_key = con.execute(_OLD_MANIFEST_KEY).fetchone()
    if old_key:
        con.execute("alter table raw.archive_manifest rename to archive_manifest_by_sha256")
        con.execute(next(s for s in _DDL if "raw.archive_manifest" in s))
        con.execute("insert into raw.archive_manifest by name select * from raw.archive_manifest_by_sha256")
        con.execute("drop table raw.archive_manifest_by_sha256")
        con.execute("delete from landing.inbox_files")


def forget_studio_documents(con: duckdb.DuckDBPyConnection) -> None:
    """Empty every raw table of received documents, Studio and LIVE (raw.documents and each raw table with a
    document_id that is not an API table) and raw.archive_manifest: a replay then rebuilds them from the archive."""
    tables = con.execute(
        """select distinct table_name from duckdb_columns()
        where schema_name = 'raw' and column_name = 'document_id'"""
    ).fetchall()
    con.execute("begin transaction")
    for (table,) in tables:
        if table not in API_RAW_TABLE_COLUMNS:
            con.execute(f"delete from raw.{table}")
    con.execute("delete from raw.archive_manifest")
    con.execute("delete from landing.manifest_stamp")
    con.execute("commit")


def replace_documents(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, pd.DataFrame],
    documents: pd.DataFrame,
    flags: pd.DataFrame | None = None,
    *,
    tables: dict[str, str] | None = None,
    in_open_transaction: bool = False,
) -> None:
    """Replace every row of these documents in raw tables, raw.documents and raw.row_flags, atomically: in a
    transaction of its own, or `in_open_transaction` in the caller's, which commits (or rolls back) the lot.

    `frames` are keyed by Studio file kind (table raw.studio_<kind>), or by the keys of `tables` (frame key →
    raw table: every table of that source is cleared of these documents, e.g. the LIVE tables).
    `flags` carries document_id, file, source_row, column_name, rule, value, severity, message; each flag
    takes its document's landed_at.
    """
    tables = tables if tables is not None else {kind: f"studio_{kind}" for kind in RAW_TABLE_COLUMNS}
    if in_open_transaction:
        _replace_documents(con, frames, documents, flags, tables)
        return
    con.execute("begin transaction")
    try:
        _replace_documents(con, frames, documents, flags, tables)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _replace_documents(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, pd.DataFrame],
    documents: pd.DataFrame,
    flags: pd.DataFrame | None,
    tables: dict[str, str],
) -> None:
    con.register("incoming_documents", documents)
    # Rows of a document land in the transaction that records it in raw.documents: when none of these
    # documents is there (every backfill batch), no table holds their rows and the deletes are skipped.
    replacing = con.execute(
        "select 1 from raw.documents where document_id in (select document_id from incoming_documents) limit 1"
    ).fetchone()
    for table in tables.values() if replacing else ():
        con.execute(f"delete from raw.{table} where document_id in (select document_id from incoming_documents)")
    for key, frame in frames.items():
        if frame.empty:
            continue
        # The lineage columns are taken by position, not by a join: a parallel join does not keep the rows'
        # order, and the same files must always give the same table row for row (`rowid`), in file order.
        con.register("incoming_rows", _scannable(_with_lineage(frame, documents, LINEAGE_FROM_DOCUMENT)))
        con.execute(f"insert into raw.{tables[key]} by name select * from incoming_rows")
        con.unregister("incoming_rows")
    if replacing:
        con.execute("delete from raw.row_flags where document_id in (select document_id from incoming_documents)")
    if flags is not None and len(flags):
        columns = ["document_id", "file", "source_row", "column_name", "rule", "value", "severity", "message"]
        con.register("incoming_flags", _scannable(_with_lineage(flags[columns], documents, ("landed_at",))))
        con.execute("insert into raw.row_flags by name select * from incoming_flags")
        con.unregister("incoming_flags")
    if replacing:
        con.execute("delete from raw.documents where document_id in (select document_id from incoming_documents)")
    con.execute("insert into raw.documents by name select * from incoming_documents")
    con.unregister("incoming_documents")  # (after a failure, the rollback drops the registrations too)


LINEAGE_FROM_DOCUMENT = ("account_handle", "export_date", "exported_at")


def _scannable(frame: pd.DataFrame) -> pa.Table | pd.DataFrame:
    """`frame` as DuckDB scans it fastest: as an Arrow table. Its pandas scan of categorical and nullable columns
    cost twice the conversion and the insert together (300 x 90 backfill, FollowerActivity rows: 1.24 -> 0.58 s of
    inserts; the tables identical). Both read NaN and NA as NULL. A column Arrow cannot type (mixed Python objects)
    keeps the pandas scan, which reads each value as it is."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame


def _with_lineage(frame: pd.DataFrame, documents: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """`frame` with its documents' `columns`, row for row; every row's document must be in `documents`. Each
    document is looked up once, not per row: a categorical `document_id` (rows checked by a landing worker) has
    its codes, text is factorized; text columns are given as categoricals, which DuckDB writes as the same text."""
    ids = frame["document_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        codes, keys = ids.cat.codes.to_numpy(), ids.cat.categories
    else:
        codes, keys = pd.factorize(ids)
    if (codes < 0).any():  # a missing id: no document to take the lineage of
        raise ValueError("rows of document None came without their document: nothing was loaded")
    keys = pa.array(keys, from_pandas=True)
    found = pc.index_in(keys, value_set=pa.array(documents["document_id"], type=keys.type, from_pandas=True))
    if found.null_count:  # a join would drop these rows without a word
        missing = keys.filter(pc.is_null(found))[0].as_py()
        raise ValueError(f"rows of document {missing!r} came without their document: nothing was loaded")
    positions = found.to_numpy()[codes]
    return frame.assign(**{column: _take(documents[column], positions) for column in columns})


def _take(column: pd.Series, positions):
    """`column`'s values at `positions`; text as a categorical (one string per distinct value, not per row)."""
    if not isinstance(column.dtype, pd.StringDtype):
        return column.to_numpy()[positions]
    codes, values = pd.factorize(column)
    return pd.Categorical.from_codes(codes[positions], categories=values)


# The earliest metric day that landed since dbt last succeeded. Landing lowers it, a successful dbt
# build clears it, so a failed build is simply retried over the same range next time.
_WATERMARK_DDL = "create table if not exists landing.pending_rebuild (min_date date)"


def record_pending_min_date(con: duckdb.DuckDBPyConnection, min_date) -> None:
    con.execute(_WATERMARK_DDL)
    if min_date is None or pd.isna(min_date):
        return
    value = pd.Timestamp(min_date).date()
    # only ever lowered, by statements that are each atomic: a crash between them never loses a lower date waiting
    con.execute("update landing.pending_rebuild set min_date = least(min_date, ?)", [value])
    con.execute(
        "insert into landing.pending_rebuild select ? where not exists (select 1 from landing.pending_rebuild)", [value]
    )


def pending_min_date(con: duckdb.DuckDBPyConnection):
    con.execute(_WATERMARK_DDL)
    return con.execute("select min(min_date) from landing.pending_rebuild").fetchone()[0]


def clear_pending_min_date(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_WATERMARK_DDL)
    con.execute("delete from landing.pending_rebuild")
