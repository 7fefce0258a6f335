"""Receipts recorded once their documents are read: a line each in `manifest.jsonl` (the archive's own record,
from which `replay` rebuilds the warehouse) and a row each in raw.archive_manifest, with the account, file kind and
export date their documents gave. Written column by column, not row by row: an agency's backfill records 100,000
receipts at once (`core.receipts` finds and archives them; `studio.landing` calls this after loading).

A receipt already in `manifest.jsonl` is never written again, which needs the keys the file holds: a scan of the
whole file, 0.3-0.6 s a day at 300 accounts x 90 days and growing with the history. So the landing keeps a stamp
(landing.manifest_stamp): the file's identity (device, inode, size, mtime, ctime), the table's row count and a digest
of its keys, set only when the table's keys are exactly those of the file's whole JSON lines (what `replay` reads).
While both are as stamped, the table says which receipts the file holds. Anything else (a file edited, restored, torn or
repaired, a table replayed or changed, a crash between the two writes, a key UTF-8 cannot hold) reads the file as
before, which then checks the two against each other, key by key, before stamping again."""

from __future__ import annotations

import os
from collections.abc import Iterable
from operator import attrgetter

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.lib.core.archive import (
    MANIFEST_FIELDS,
    RECEIPT_KEY,
    RECEIPT_PREFIX_CHARS,
    RECEIPT_PREFIX_COLONS,
    ManifestRow,
    append_receipts,
    new_rows,
    receipt_prefix_sql,
    receipt_table,
)
from orchestration.lib.core.paths import DataPaths


def record_manifest(
    paths: DataPaths,
    con: duckdb.DuckDBPyConnection,
    rows: list[ManifestRow],
    documents: pd.DataFrame,
    *,
    claims: list[tuple[str, str | None]] | None = None,
    append_to_file: bool = True,
) -> None:
    """Record receipts in manifest.jsonl and raw.archive_manifest, each with the export date its documents got;
    `claims` (aligned with `rows`) gives each new receipt the file kind and account of the source that read it.

    Replay passes `append_to_file=False`: it rebuilds the table from the file and never rewrites it.
    Column by column, not row by row: an agency's backfill records 100,000 receipts at once.
    """
    if not rows:
        return
    columns = {name: list(map(attrgetter(name), rows)) for name in MANIFEST_FIELDS}
    if claims is not None:
        columns["file_kind"], columns["account_handle"] = [kind for kind, _ in claims], [who for _, who in claims]
    table = receipt_table(columns)  # None: a value of another type (an odd line replayed), left to pandas as before
    if len(documents):
        found = _document_facts(con, pd.DataFrame(columns) if table is None else table, documents)
        if table is None:
            columns |= {name: found[name].to_pylist() for name in found.column_names}
        else:
            for name in found.column_names:
                table = table.set_column(table.schema.get_field_index(name), name, found[name].cast(pa.string()))
    ledger = _Ledger(con)
    if append_to_file:
        append_receipts(paths.manifest, columns if table is None else table, ledger)
    incoming = pd.DataFrame(columns) if table is None else table
    con.register("incoming_manifest", _first_of_each_receipt(incoming))
    # A receipt recorded again replaces its row. Deleted then inserted, not `insert or replace`, which lands the rows
    # in an order of its own (two landings of one drop: 104,480 of 106,528 rows at other positions); a plain insert
    # keeps the receipts' order, as the other raw tables keep their files'.
    con.execute("begin transaction")
    try:
        con.execute(
            """delete from raw.archive_manifest using incoming_manifest
            where archive_manifest.sha256 = incoming_manifest.sha256
              and archive_manifest.inbox_path = incoming_manifest.inbox_path"""
        )
        con.execute(
            """insert into raw.archive_manifest
            select sha256, inbox_path, original_name, archive_path, account_handle, file_kind,
                   cast(export_date as date), export_date_source, size_bytes,
                   cast(source_mtime as timestamp), cast(received_at as timestamp)
            from incoming_manifest"""
        )
        ledger.remember()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("incoming_manifest")


class _Ledger:
    """Which receipts manifest.jsonl holds, asked of raw.archive_manifest while the stamp holds (module docstring).
    `archive.append_receipts` calls `recorded` and `appended` under the manifest's lock; `remember` runs in the
    transaction that records the receipts in the table."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.after: tuple[str, set[tuple] | None] | None = None  # the file's identity once appended; its keys if read

    def recorded(self, status: os.stat_result, keys: list[tuple]) -> set[tuple] | None:
        """Which of `keys` (texts: `archive.receipt_table`'s) the manifest (now `status`) holds, or None when only
        reading it can tell."""
        stamp = self.con.execute("select stamp, receipts from landing.manifest_stamp").fetchall()
        if stamp != [self._stamp(_identity(status))]:
            return None
        return set(self._with_keys(keys, "select sha256, inbox_path from raw.archive_manifest semi join receipt_keys"))

    def appended(self, status: os.stat_result, keys: set[tuple] | None) -> None:
        self.after = (_identity(status), keys)

    def remember(self) -> None:
        """The stamp, when the file and the table are known to hold the same receipts: they did before and took the
        same new ones, or the file was read and its keys are exactly the table's. Else none (a replay, which does
        not append, removes it)."""
        self.con.execute("delete from landing.manifest_stamp")
        if self.after is None:
            return
        identity, keys = self.after
        stamp, receipts = self._stamp(identity)
        if keys is not None and (
            len(keys) != receipts
            or not _all_text(keys)
            or self._with_keys(keys, "select 1 from receipt_keys anti join raw.archive_manifest")
        ):
            return
        self.con.execute("insert into landing.manifest_stamp values (?, ?)", [stamp, receipts])

    def _stamp(self, identity: str) -> tuple[str, int]:
        """The stamp of the file `identity` and the table as it is: its keys' digest (an order-free XOR of their
        hashes, ~10 ms over 107,728 rows: a key changed by hand changes it) and its row count."""
        ((receipts, digest),) = self.con.execute(
            "select count(*), coalesce(bit_xor(hash(sha256, inbox_path)), 0) from raw.archive_manifest"
        ).fetchall()
        return f"{identity} {digest}", receipts

    def _with_keys(self, keys: Iterable[tuple], query: str) -> list[tuple]:
        """The rows of `query`, joined `using (sha256, inbox_path)` with these receipt keys as `receipt_keys`."""
        sha256, inbox_path = zip(*keys, strict=True)  # never empty: `_append` returns before asking for no keys
        columns = {"sha256": pa.array(sha256, pa.string()), "inbox_path": pa.array(inbox_path, pa.string())}
        self.con.register("receipt_keys", pa.table(columns))
        try:
            return self.con.execute(f"{query} using (sha256, inbox_path)").fetchall()
        finally:
            self.con.unregister("receipt_keys")


def _all_text(keys: Iterable[tuple]) -> bool:
    """Whether every receipt key is two texts that UTF-8 can hold, as the table's (a replayed odd line, or a line edited
    by hand with an escaped lone surrogate, may give another value)."""
    return all(_utf8(sha256) and _utf8(path) for sha256, path in keys)


def _utf8(value) -> bool:
    if type(value) is not str:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _identity(status: os.stat_result) -> str:
    return f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}"


def _first_of_each_receipt(incoming: pa.Table | pd.DataFrame) -> pa.Table | pd.DataFrame:
    """`incoming` with only the first row of each receipt (sha256, inbox_path), as `insert or replace` kept it and
    as the manifest's lines keep it (`archive.new_rows`)."""
    if isinstance(incoming, pa.Table):
        keys = zip(*(incoming[name].to_pylist() for name in RECEIPT_KEY), strict=True)
    else:
        keys = zip(*(incoming[name].tolist() for name in RECEIPT_KEY), strict=True)
    keep = new_rows(list(keys), set())
    if keep is None:
        return incoming
    return incoming.filter(pa.array(keep)) if isinstance(incoming, pa.Table) else incoming[keep]


def _document_facts(
    con: duckdb.DuckDBPyConnection, receipts: pa.Table | pd.DataFrame, documents: pd.DataFrame
) -> pa.Table:
    """Each receipt's account_handle, export_date and export_date_source once its documents are known: the latest
    export date of its documents, the first source given (by document id) and, when neither its name nor its claim
    gave one, their greatest handle; as they were for a receipt without documents. A receipt's documents are those
    whose id starts with `document_id_for(sha256, inbox_path, "")` (`receipt_prefix_sql`): cut at its length when
    every id has that shape, else at their second colon."""
    numbered = range(len(receipts))
    if isinstance(receipts, pa.Table):
        receipts = receipts.append_column("position", pa.array(numbered, pa.int64()))
    else:
        receipts = receipts.assign(position=numbered)
    facts = documents[["document_id", "export_date_source", "account_handle"]].assign(
        export_date=pd.to_datetime(documents["export_date"]), position=range(len(documents))
    )
    con.register("incoming_manifest", receipts)
    con.register("receipt_documents", pa.Table.from_pandas(facts, preserve_index=False))
    try:
        (sliced,) = con.execute(_EVERY_ID_SLICED).fetchall()[0]
        receipt, of_row = _SLICED if sliced else _TO_SECOND_COLON, receipt_prefix_sql("r.sha256", "r.inbox_path")
        return con.sql(_DOCUMENT_FACTS.format(receipt=receipt, receipt_of_manifest_row=of_row)).to_arrow_table()
    finally:
        con.unregister("incoming_manifest")
        con.unregister("receipt_documents")


_EVERY_ID_SLICED = "select bool_and({}) from receipt_documents".format(
    " and ".join(f"substr(document_id, {at}, 1) = ':'" for at in RECEIPT_PREFIX_COLONS)
)
_SLICED = f"left(document_id, {RECEIPT_PREFIX_CHARS})"
_TO_SECOND_COLON = "regexp_extract(document_id, '^[^:]*(:[^:]*)?') || ':'"
_DOCUMENT_FACTS = """
with facts as (
    select
        {receipt} as receipt,
        strftime(max(export_date), '%Y-%m-%d') as export_date,
        first(export_date_source order by document_id, position)
            filter (where export_date_source is not null) as source,
        max(account_handle) as handle
    from receipt_documents group by receipt)
select
    case when f.receipt is null or r.account_handle <> '' then r.account_handle else f.handle end as account_handle,
    case when f.receipt is null then r.export_date else f.export_date end as export_date,
    case when f.receipt is null then r.export_date_source else f.source end as export_date_source
from incoming_manifest r left join facts f on f.receipt = {receipt_of_manifest_row}
order by r.position"""
