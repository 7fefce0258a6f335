"""When a received file was exported, as far as the file's own time can say: the moment its receipt carries.

A dated folder's file, exported at its time when that is on the folder's day; and the same bytes received
again (a copy, a re-download saved as `(1)`), dated by the earliest time they had: a copy's modification time is
when it was copied. The landing (`receipts.archive_new_inbox_files`) and a replay (`receipts.received_from_manifest`)
date them alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import duckdb


def folder_moment(folder_day: date, mtime: datetime) -> datetime:
    """A dated folder's file: exported at its modification time, held within the folder's day. Two downloads saved
    there that day (`activity.csv`, `activity (1).csv`) are told apart, the later one the newer export, where both
    at midnight left the choice to their ids' hashes (LIVE review); one saved over them days later (a correction)
    is the day's last; a file saved before the day its folder names, its first. Never outside the day: files copied
    into dated folders months later keep their folders' order."""
    midnight = datetime.combine(folder_day, datetime.min.time())
    return min(max(mtime, midnight), midnight + timedelta(days=1) - timedelta(microseconds=1))


def as_first_received(con: duckdb.DuckDBPyConnection, batch: list, known: dict[str, datetime]) -> list:
    """The receipts of `batch` (`receipts.Received`), each dated by the earliest moment its bytes are known by:
    from earlier landings (raw.archive_manifest, a time never after its receipt) and this one so far (`known`). A
    copy's modification time is when it was copied, not exported: `cp "revenue.csv" "revenue (2).csv"` dated
    TikTok's old figures today, and they beat a newer export's revised ones (determinism review). A replay takes the
    same moments from the manifest (`first_moments`); only the same bytes at two times in one landing of more than
    one batch of files can be dated apart there."""
    if not batch:
        return batch
    shas = sorted({item.sha256 for item in batch})
    for sha, moment in con.execute(
        """select sha256, min(least(source_mtime, received_at)) from raw.archive_manifest
        where list_contains(?, sha256) group by 1""",
        [shas],
    ).fetchall():
        known[sha] = min(moment, known.get(sha, moment))
    for item in batch:
        known[item.sha256] = min(item.mtime, known.get(item.sha256, item.mtime))
    return [item if item.mtime <= known[item.sha256] else replace(item, mtime=known[item.sha256]) for item in batch]


def first_moments(shas: list[str], moments: list[datetime], received_at: list[datetime | None]) -> list[datetime]:
    """Each receipt's moment, or the earliest of a receipt of the same bytes received no later than it (the
    manifest's rows, as `as_first_received` dated them when they landed)."""
    by_sha: dict[str, list[tuple[datetime, datetime]]] = {}
    for sha, moment, at in zip(shas, moments, received_at, strict=True):
        by_sha.setdefault(sha, []).append((at or datetime.max, moment))
    return [
        min([moment] + [other for when, other in by_sha[sha] if when <= (at or datetime.max)])
        if len(by_sha[sha]) > 1
        else moment
        for sha, moment, at in zip(shas, moments, received_at, strict=True)
    ]
