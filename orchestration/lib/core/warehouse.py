"""The working DuckDB: raw tables the landing step writes and dbt reads.

Loads are idempotent per document: rows of a document are deleted and re-inserted in one
transaction, so a rerun or a replay of the archive never doubles anything.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

_LINEAGE_DDL = (
    "document_id varchar not null, account_handle varchar not null, export_date date not null, "
    "exported_at timestamp not null, source_row integer not null"
)

RAW_TABLE_COLUMNS: dict[str, str] = {
    "overview": "metric_date date, video_views bigint, profile_views bigint, likes bigint, comments bigint, "
    "shares bigint",
    "viewers": "metric_date date, total_viewers bigint, new_viewers bigint, returning_viewers bigint",
    "follower_history": "metric_date date, followers bigint, follower_difference bigint",
    "follower_activity": "metric_date date, hour integer, active_followers bigint",
    "follower_gender": "gender varchar, distribution double",
    "follower_territories": "territory varchar, distribution double",
    "content": "snapshot_date date, video_id varchar, video_title varchar, video_link varchar, post_date date, "
    "likes_total bigint, comments_total bigint, shares_total bigint, views_total bigint",
}

_DDL = [
    "create schema if not exists raw",
    "create schema if not exists landing",
    *(
        f"create table if not exists raw.studio_{kind} ({_LINEAGE_DDL}, {columns})"
        for kind, columns in RAW_TABLE_COLUMNS.items()
    ),
    """create table if not exists raw.documents (
        document_id varchar primary key, archive_sha256 varchar not null, member_name varchar,
        original_name varchar not null, account_handle varchar, file_kind varchar, export_date date,
        export_date_source varchar, exported_at timestamp, status varchar not null, row_count integer,
        quarantine_reason varchar, landed_at timestamp not null, first_metric_date date,
        last_metric_date date)""",
    """create table if not exists raw.archive_manifest (
        sha256 varchar primary key, original_name varchar not null, inbox_path varchar not null,
        archive_path varchar not null, account_handle varchar, file_kind varchar, export_date date,
        export_date_source varchar, size_bytes bigint, source_mtime timestamp, received_at timestamp)""",
    # Remembers inbox files already hashed, so a scan costs a stat per file, not a read.
    """create table if not exists landing.inbox_files (
        inbox_path varchar primary key, size_bytes bigint not null, mtime_ns bigint not null,
        sha256 varchar not null)""",
]

# TikTok API pulls (orchestration/lib/api/). Created always, so dbt staging works on a
# warehouse that never pulled anything. Lineage columns as above: document_id is the pull_id of one
# endpoint pull, export_date the account-local day of the pull, exported_at the pull time (UTC).
API_RAW_TABLE_COLUMNS: dict[str, str] = {
    "api_user_snapshots": "api varchar, metric_date date, open_id varchar, username varchar, "
    "display_name varchar, follower_count bigint, following_count bigint, likes_count bigint, "
    "video_count bigint",
    "api_video_snapshots": "api varchar, metric_date date, video_id varchar, created_at timestamp, "
    "post_date date, title varchar, description varchar, duration_s double, share_url varchar, "
    "views_total bigint, likes_total bigint, comments_total bigint, shares_total bigint, "
    "favorites_total bigint, reach_total bigint, total_time_watched_s double, "
    "average_time_watched_s double, full_video_watched_rate double, new_followers_total bigint, "
    "profile_views_total bigint",
    "api_video_traffic_sources": "metric_date date, video_id varchar, impression_source varchar, share double",
    "api_video_audience_countries": "metric_date date, video_id varchar, country varchar, share double",
    "api_video_audience_types": "metric_date date, video_id varchar, audience_type varchar, share double",
    "api_business_daily": "metric_date date, video_views bigint, unique_video_views bigint, "
    "profile_views bigint, likes bigint, comments bigint, shares bigint, bio_link_clicks bigint, "
    "net_followers bigint, new_followers bigint, lost_followers bigint, followers_count bigint",
    "api_business_audience_activity": "metric_date date, hour integer, active_followers bigint",
    "api_account_audience": "metric_date date, dimension varchar, label varchar, share double",
}
_DDL += [
    *(
        f"create table if not exists raw.{table} ({_LINEAGE_DDL}, {columns})"
        for table, columns in API_RAW_TABLE_COLUMNS.items()
    ),
    # One row per endpoint pull, loaded or not: the API archive's queryable manifest and pull log.
    """create table if not exists raw.api_pulls (
        pull_id varchar primary key, account_handle varchar not null, api varchar not null,
        endpoint varchar not null, purpose varchar not null, metric_date date, requested_start_date date,
        requested_end_date date, timezone varchar not null, pulled_at timestamp not null,
        finished_at timestamp, status varchar not null, pages integer, http_requests integer,
        rows_loaded integer, videos_listed integer, videos_expected integer, reason varchar,
        archive_path varchar, archive_sha256 varchar, landed_at timestamp not null)""",
]


def connect(database: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    database.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database), read_only=read_only)
    if not read_only:
        for statement in _DDL:
            con.execute(statement)
    return con


def replace_documents(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, pd.DataFrame],
    documents: pd.DataFrame,
) -> None:
    """Replace every row of these documents in raw tables and raw.documents, atomically."""
    con.execute("begin transaction")
    try:
        con.register("incoming_documents", documents)
        for kind in RAW_TABLE_COLUMNS:
            con.execute(
                f"delete from raw.studio_{kind} where document_id in (select document_id from incoming_documents)"
            )
        for kind, frame in frames.items():
            if frame.empty:
                continue
            con.register("incoming_rows", frame)
            con.execute(
                f"""insert into raw.studio_{kind} by name
                select d.account_handle, d.export_date, d.exported_at, r.*
                from incoming_rows r join incoming_documents d using (document_id)"""
            )
            con.unregister("incoming_rows")
        con.execute("delete from raw.documents where document_id in (select document_id from incoming_documents)")
        con.execute("insert into raw.documents by name select * from incoming_documents")
        con.unregister("incoming_documents")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


# The earliest metric day that landed since dbt last succeeded. Landing lowers it, a successful dbt
# build clears it, so a failed build is simply retried over the same range next time.
_WATERMARK_DDL = "create table if not exists landing.pending_rebuild (min_date date)"


def record_pending_min_date(con: duckdb.DuckDBPyConnection, min_date) -> None:
    con.execute(_WATERMARK_DDL)
    if min_date is None or pd.isna(min_date):
        return
    current = con.execute("select min(min_date) from landing.pending_rebuild").fetchone()[0]
    value = pd.Timestamp(min_date).date()
    if current is None or value < current:
        con.execute("delete from landing.pending_rebuild")
        con.execute("insert into landing.pending_rebuild values (?)", [value])


def pending_min_date(con: duckdb.DuckDBPyConnection):
    con.execute(_WATERMARK_DDL)
    return con.execute("select min(min_date) from landing.pending_rebuild").fetchone()[0]


def clear_pending_min_date(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_WATERMARK_DDL)
    con.execute("delete from landing.pending_rebuild")
