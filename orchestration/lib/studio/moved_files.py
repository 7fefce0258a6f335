"""A received file moved to another account's folder counts for that account only.

Nothing in a Viewers, Overview or Followers file names its account: a bare one lands as the account of the folder
it was dropped in. Dropped in the wrong folder and moved where it belongs, it was received twice, and both accounts
counted it (another account's viewers on the wrong account's days). A *move* is told from the archive alone, so a
replay withdraws the same receipts as the landings did: the same bytes with the same modification time (a move keeps
it; a new download or a plain `cp` does not) received later under another account, where that later receipt
loaded. Receipts of one landing are never a move of each other (a file in two folders at once is two files).

The earlier receipt's documents keep their row in raw.documents with status `moved` (lineage: what was received and
why it no longer counts); their rows leave the raw tables and their flags raw.row_flags. Withdrawn rows leave the
incremental marts only by a full refresh (delete+insert never deletes a key no new row carries): requested here.
LIVE files are left to the LIVE landing's own rules (a log re-landed under another account)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from orchestration.lib.core.archive import RECEIPT_PREFIX_CHARS, receipt_prefix_sql
from orchestration.lib.core.dbt_selection import record_changed_sources, request_full_refresh
from schemas.studio_files import STUDIO_FILE_KINDS

MOVED = "moved"  # raw.documents.status of a document whose receipt was moved to another account's folder


@dataclass(frozen=True)
class MovedFile:
    inbox_path: str  # where it was received first
    account_handle: str
    moved_to: str  # the inbox path of its newest receipt under another account
    moved_to_account: str
    first_day: date | None
    last_day: date | None


# Each receipt a later receipt of the same bytes and modification time, under another account, moved away (the
# newest such receipt is where the file went), where both read as Studio documents (the later one may have moved on
# since). Only bytes received under two accounts are looked at: a handful.
_MOVES = f"""
with twice as (
    select sha256 from raw.archive_manifest where account_handle is not null
    group by sha256 having count(distinct lower(account_handle)) > 1
),
receipts as (
    select sha256, inbox_path, lower(account_handle) as account, source_mtime, received_at,
           {receipt_prefix_sql("sha256", "inbox_path")} as receipt
    from raw.archive_manifest
    where sha256 in (select sha256 from twice) and account_handle is not null
),
read_documents as (
    select left(document_id, {RECEIPT_PREFIX_CHARS}) as receipt, min(first_metric_date) as first_day,
           max(last_metric_date) as last_day
    from raw.documents
    where status in ('loaded', '{MOVED}') and list_contains($kinds, file_kind)
      and archive_sha256 in (select sha256 from twice)
    group by 1
)
select earlier.receipt, earlier.inbox_path, earlier.account, arg_max(later.inbox_path, later.received_at),
       arg_max(later.account, later.received_at), max(later.received_at), was.first_day, was.last_day
from receipts as earlier
join read_documents as was on was.receipt = earlier.receipt
join receipts as later
  on later.sha256 = earlier.sha256 and later.source_mtime = earlier.source_mtime
 and later.account <> earlier.account and later.received_at > earlier.received_at
where later.receipt in (select receipt from read_documents)
group by all
order by all
"""


def _moves(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(_MOVES, {"kinds": sorted(STUDIO_FILE_KINDS)}).fetchall()


def moved_files(con: duckdb.DuckDBPyConnection, since: datetime | None = None) -> list[MovedFile]:
    """The receipts moved to another account's folder (those moved by a receipt received at or after `since`)."""
    return [
        MovedFile(path, account, to, to_account, first, last)
        for _, path, account, to, to_account, moved_at, first, last in _moves(con)
        if since is None or moved_at >= since
    ]


def withdraw_moved_files(con: duckdb.DuckDBPyConnection) -> int:
    """Mark the loaded documents of every receipt moved away `moved` and remove their rows and flags, in one
    transaction that also asks for a full refresh; how many documents. Over the whole manifest, so that a landing
    stopped between its receipts and this step is finished by the next one, and a replay ends where they did."""
    moved = [row[0] for row in _moves(con)]
    if not moved:
        return 0
    withdrawn = (
        f"status = 'loaded' and list_contains($moved, left(document_id, {RECEIPT_PREFIX_CHARS})) "
        f"and file_kind in ({', '.join(repr(kind) for kind in sorted(STUDIO_FILE_KINDS))})"
    )
    documents = f"select document_id from raw.documents where {withdrawn}"
    kinds = con.execute(f"select distinct file_kind from raw.documents where {withdrawn}", {"moved": moved}).fetchall()
    if not kinds:
        return 0
    con.execute("begin transaction")
    try:
        for (kind,) in kinds:
            con.execute(f"delete from raw.studio_{kind} where document_id in ({documents})", {"moved": moved})
        con.execute(f"delete from raw.row_flags where document_id in ({documents})", {"moved": moved})
        (count,) = con.execute(
            f"update raw.documents set status = '{MOVED}' where {withdrawn}", {"moved": moved}
        ).fetchone()
        record_changed_sources(con, [f"studio_{kind}" for (kind,) in kinds] + ["documents", "row_flags"])
        request_full_refresh(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return count
