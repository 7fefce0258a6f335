"""A received file moved to another account's folder counts for that account only.

Nothing in a Viewers, Overview or Followers file names its account: a bare one lands as the account of the folder
it was dropped in. Dropped in the wrong folder and moved where it belongs, it was received twice, and both accounts
counted it (another account's viewers on the wrong account's days).

A *move* is decided by a landing from the inbox as it is: a receipt of the same bytes, with the same modification
time (a move keeps it), received now under another account, while the earlier receipt's place no longer holds them
(size and time as received). A file in both places, a copy that kept its time (`cp -p`, a file manager, two
accounts' ZIPs unzipped in one second), or two accounts' identical files, is no move. Moved back, the file is found
at its first place again while the other is empty: that is a move too. Each decision is a line of
`<archive>/moves.jsonl`, append-only beside manifest.jsonl, so a replay reads the decisions instead of guessing
them from an inbox that has changed since.

`apply_moves` makes the raw tables say what the lines say, in a landing and in a replay alike: a receipt the last
line naming it moved away keeps its documents in raw.documents with status `moved` (lineage: what was received,
and why it no longer counts), their rows leave the raw tables and their flags raw.row_flags; a receipt moved back
is read again from the archive. Rows that leave leave the incremental marts only by a full refresh
(delete+insert never deletes a key no new row carries): requested with them. LIVE files are left to the LIVE
landing's own rules (a log re-landed under another account).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa

from orchestration.lib.core.archive import (
    RECEIPT_PREFIX_CHARS,
    append_manifest_lines,
    document_id_for,
    read_manifest,
    receipt_prefix_sql,
)
from orchestration.lib.core.dbt_selection import record_changed_sources, request_full_refresh
from orchestration.lib.core.inbox import shown_name
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.receipts import mtime_moment
from schemas.studio_files import STUDIO_FILE_KINDS

MOVED = "moved"  # raw.documents.status of a document whose receipt was moved to another account's folder
MOVE_FIELDS = ("decided_at", "sha256", "from_path", "to_path")
_NEW_RECEIPT_COLUMNS = ("sha256", "inbox_path", "source_mtime", "account_handle")
_STUDIO_KINDS = ", ".join(repr(kind) for kind in sorted(STUDIO_FILE_KINDS))


@dataclass(frozen=True)
class MovedFile:
    inbox_path: str  # the receipt that no longer counts
    account_handle: str
    moved_to: str  # the receipt that counts instead
    moved_to_account: str
    first_day: date | None
    last_day: date | None

    def told(self) -> str:
        """`b/Viewers.csv (@b) → a/Viewers.csv (@a)`, names escaped: as the run summary and Dagster's log say it."""
        went = f"{shown_name(self.moved_to)} (@{self.moved_to_account})"
        return f"{shown_name(self.inbox_path)} (@{self.account_handle}) → {went}"


def moves_file(paths: DataPaths):
    return paths.archive / "moves.jsonl"


def decide_moves(paths: DataPaths, con: duckdb.DuckDBPyConnection, new_receipts: list[tuple]) -> list[tuple]:
    """The moves this landing's receipts show, and the moves back of receipts moved away before: (sha256, from
    place, to place) each, for `record_moves`. `new_receipts`: (sha256, inbox path, modification time, account) of
    each, their documents loaded and their manifest lines not written yet."""
    withdrawn = _withdrawn(_read(paths))
    decided = []
    if new_receipts:
        # registered column by column: a backfill brings 100,000 receipts (a row-by-row insert takes minutes)
        columns = list(zip(*new_receipts, strict=True))
        con.register(
            "new_receipts",
            pa.table({name: list(values) for name, values in zip(_NEW_RECEIPT_COLUMNS, columns, strict=True)}),
        )
        try:
            candidates = con.execute(
                f"""select earlier.sha256, earlier.inbox_path, earlier.size_bytes, earlier.source_mtime,
                    later.inbox_path
                from new_receipts as later
                join raw.archive_manifest as earlier
                  on earlier.sha256 = later.sha256 and earlier.source_mtime = later.source_mtime
                 and lower(earlier.account_handle) <> lower(later.account_handle)
                where exists (select 1 from raw.documents where status = 'loaded' and file_kind in ({_STUDIO_KINDS})
                              and left(document_id, {RECEIPT_PREFIX_CHARS}) = {_prefix("later")})
                order by all"""
            ).fetchall()
        finally:
            con.unregister("new_receipts")
        decided += [
            (sha, before, after)
            for sha, before, size, mtime, after in candidates
            if (sha, before) not in withdrawn and not _holds(paths, before, size, mtime)
        ]
    # a receipt moved away whose place holds its bytes again, while the place it went to does not: moved back
    returns = []
    for (sha, before), after in sorted(withdrawn.items()):
        seen = {before}
        while (sha, after) in withdrawn and after not in seen:  # where it went on to: the receipt counting now
            seen.add(after)
            after = withdrawn[(sha, after)]
        returns.append((sha, before, after))
    facts = _receipt_facts(con, [(sha, place) for sha, before, after in returns for place in (before, after)])
    for sha, before, after in returns:
        if (sha, before) in facts and (sha, after) in facts and _holds(paths, before, *facts[(sha, before)]):
            if not _holds(paths, after, *facts[(sha, after)]):
                decided.append((sha, after, before))
    return decided


def record_moves(paths: DataPaths, decided: list[tuple[str, str, str]]) -> None:
    """Append the moves `decide_moves` found to moves.jsonl (fsynced), once the receipts they name are recorded: a
    landing stopped before leaves no line naming a receipt the manifest lacks (it then counts the file under both
    accounts until the next move)."""
    if decided:
        now = datetime.now(UTC).replace(tzinfo=None).isoformat()
        lines = [dict(zip(MOVE_FIELDS, (now, *move), strict=True)) for move in decided]
        append_manifest_lines(moves_file(paths), lines)


def apply_moves(paths: DataPaths, con: duckdb.DuckDBPyConnection, reland: Callable[[list[dict]], None]) -> int:
    """Make raw.documents and the raw tables say what moves.jsonl says: the documents of receipts moved away
    `moved`, their rows and flags gone; receipts moved back read again (`reland`, given their manifest rows). Asks
    for a full refresh when anything changed; how many documents changed. Idempotent: a landing stopped half-way is
    finished by the next one, and a replay ends where the landings did."""
    withdrawn = sorted(document_id_for(sha, path, "") for sha, path in _withdrawn(_read(paths)))
    back = con.execute(
        f"""select distinct m.* from raw.archive_manifest as m
        join raw.documents as d on left(d.document_id, {RECEIPT_PREFIX_CHARS}) = {_prefix("m")}
        where d.status = '{MOVED}' and not list_contains($withdrawn, {_prefix("m")})""",
        {"withdrawn": withdrawn},
    ).df()
    if len(back):
        reland(back.to_dict("records"))
    leaving = f"""status = 'loaded' and file_kind in ({_STUDIO_KINDS})
        and list_contains($withdrawn, left(document_id, {RECEIPT_PREFIX_CHARS}))"""
    kinds = [
        kind
        for (kind,) in con.execute(
            f"select distinct file_kind from raw.documents where {leaving}", {"withdrawn": withdrawn}
        ).fetchall()
    ]
    if not kinds and not len(back):
        return 0
    documents = f"select document_id from raw.documents where {leaving}"
    con.execute("begin transaction")
    try:
        for kind in kinds:
            con.execute(f"delete from raw.studio_{kind} where document_id in ({documents})", {"withdrawn": withdrawn})
        con.execute(f"delete from raw.row_flags where document_id in ({documents})", {"withdrawn": withdrawn})
        (count,) = con.execute(
            f"update raw.documents set status = '{MOVED}' where {leaving}", {"withdrawn": withdrawn}
        ).fetchone()
        record_changed_sources(con, [f"studio_{kind}" for kind in kinds] + ["documents", "row_flags"])
        request_full_refresh(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return count + len(back)


def moved_files(paths: DataPaths, con: duckdb.DuckDBPyConnection, since: datetime | None = None) -> list[MovedFile]:
    """The moves decided at or after `since` (every move: None), oldest first."""
    moves = [row for row in _read(paths) if since is None or datetime.fromisoformat(row["decided_at"]) >= since]
    told = []
    for row in moves:
        facts = con.execute(
            f"""select m.inbox_path, any_value(m.account_handle), min(d.first_metric_date), max(d.last_metric_date)
            from raw.archive_manifest as m
            left join raw.documents as d on left(d.document_id, {RECEIPT_PREFIX_CHARS}) = {_prefix("m")}
            where m.sha256 = ? and list_contains(?, m.inbox_path) group by 1""",
            [row["sha256"], [row["from_path"], row["to_path"]]],
        ).fetchall()
        by_path = {path: (account, first, last) for path, account, first, last in facts}
        if row["from_path"] in by_path and row["to_path"] in by_path:
            account, first, last = by_path[row["from_path"]]
            told.append(MovedFile(row["from_path"], account, row["to_path"], by_path[row["to_path"]][0], first, last))
    return told


def unreadable_move_lines(paths: DataPaths) -> int:
    """How many lines of moves.jsonl are torn or garbled (an edit, a damaged disk): the moves they recorded are not
    applied, so each such file counts for both accounts again. Told on every run until the file is repaired."""
    return read_manifest(moves_file(paths), key=MOVE_FIELDS)[1]


def _read(paths: DataPaths) -> list[dict]:
    rows, _ = read_manifest(moves_file(paths), key=MOVE_FIELDS)
    return rows


def _withdrawn(moves: list[dict]) -> dict[tuple[str, str], str]:
    """(sha256, inbox path) of each receipt the last line naming it moved away → where it went."""
    withdrawn: dict[tuple[str, str], str] = {}
    for move in moves:
        withdrawn.pop((move["sha256"], move["to_path"]), None)
        withdrawn[(move["sha256"], move["from_path"])] = move["to_path"]
    return withdrawn


def _receipt_facts(con: duckdb.DuckDBPyConnection, receipts: list[tuple[str, str]]) -> dict[tuple, tuple]:
    """(size, modification time) of each receipt (sha256, inbox path) the manifest holds, in one query: a landing
    asked one per receipt moved away, 12 s a day with 20,000 of them (review)."""
    if not receipts:
        return {}
    shas, places = (list(column) for column in zip(*receipts, strict=True))
    con.register("asked_receipts", pa.table({"sha256": shas, "inbox_path": places}))
    try:
        rows = con.execute(
            """select m.sha256, m.inbox_path, m.size_bytes, m.source_mtime
            from raw.archive_manifest as m join asked_receipts using (sha256, inbox_path)"""
        ).fetchall()
    finally:
        con.unregister("asked_receipts")
    return {(sha, path): (size, mtime) for sha, path, size, mtime in rows}


def _holds(paths: DataPaths, inbox_path: str, size: int, mtime: datetime) -> bool:
    """Whether the inbox still holds this receipt's file at its place: a regular file of its size and modification
    time (as the scan tells a known file, without reading it)."""
    try:
        status = os.lstat(paths.inbox / inbox_path)
    except (OSError, ValueError):  # gone, or a name this system cannot hold
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size == size and mtime_moment(status.st_mtime_ns) == mtime


def _prefix(alias: str) -> str:
    return receipt_prefix_sql(f"{alias}.sha256", f"{alias}.inbox_path")
