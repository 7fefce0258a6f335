"""When a received file was exported, as far as the file's own time can say: the moment its receipt carries.

A dated folder's file, exported at its time held within the folder's day; and the same bytes received again in
the same top folder (a copy, a re-download saved as `(1)`), dated by the earliest time they had: a copy's
modification time is when it was copied. The landing (`receipts.archive_new_inbox_files`) and a replay
(`receipts.received_from_manifest`) date them alike."""

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


def as_first_received(con: duckdb.DuckDBPyConnection, batch: list, known: dict[tuple, datetime]) -> list:
    """The receipts of `batch` (`receipts.Received`, in inbox-path order), each dated by the earliest moment its
    bytes had in the same top inbox folder (an account's, or the inbox root: identical bytes in another account's
    folder are that account's export, review): in earlier landings (raw.archive_manifest, a time never after its
    receipt) and in this one at a place up to its own in path order (`known`, across the batches: the order the
    scan hands them over, which a replay repeats). A copy's modification time is when it was copied, not exported:
    `cp "revenue.csv" "revenue (2).csv"` dated TikTok's old figures today, and they beat a newer export's revised
    ones (determinism review)."""
    if not batch:
        return batch
    keys = sorted({(item.sha256, top_folder(item.inbox_path)) for item in batch} - set(known))
    if keys:
        shas = sorted({sha for sha, _ in keys})
        for sha, folder, moment in con.execute(
            f"""select sha256, {_TOP_FOLDER_SQL}, min(least(source_mtime, received_at)) from raw.archive_manifest
            where list_contains(?, sha256) group by 1, 2""",
            [shas],
        ).fetchall():
            known.setdefault((sha, folder), moment)
    dated = []
    for item in batch:
        key = (item.sha256, top_folder(item.inbox_path))
        known[key] = min(item.mtime, known.get(key, item.mtime))
        dated.append(item if item.mtime <= known[key] else replace(item, mtime=known[key]))
    return dated


def first_moments(
    shas: list[str], places: list[str], moments: list[datetime], received_at: list[datetime | None]
) -> list[datetime]:
    """Each receipt's moment as `as_first_received` dated it when it landed: the earliest of a receipt of the same
    bytes in the same top folder received before it, or in the same landing at a place up to its own."""
    by_key: dict[tuple, list[tuple]] = {}
    for sha, place, moment, at in zip(shas, places, moments, received_at, strict=True):
        by_key.setdefault((sha, top_folder(place)), []).append((at or datetime.max, place, moment))
    dated = []
    for sha, place, moment, at in zip(shas, places, moments, received_at, strict=True):
        others = by_key[(sha, top_folder(place))]
        when = at or datetime.max
        earlier = [m for a, p, m in others if a < when or (a == when and p <= place)] if len(others) > 1 else []
        dated.append(min([moment, *earlier]))
    return dated


def top_folder(inbox_path: str) -> str:
    """The first folder of an inbox path (an account's, or a dated one's), '' at the inbox root."""
    return inbox_path.split("/", 1)[0] if "/" in inbox_path else ""


_TOP_FOLDER_SQL = "case when contains(inbox_path, '/') then split_part(inbox_path, '/', 1) else '' end"
