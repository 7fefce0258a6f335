"""Received LIVE files → readers → contracts → the raw LIVE tables, like every other source.

`LiveSource` is the `core.receipts.ReceiptSource` of the LIVE inputs: it claims the receipts `routing`
recognises (event logs and their sidecars, Backstage Creator data exports, LIVE Center daily files) and
lands them: each file one document (`document_id_for(sha256, inbox path, "")`, as a bare Studio file),
its rows replaced per document in `raw.live_*`, a `raw.documents` row (loaded or quarantined, with the
reason), plausibility flags in `raw.row_flags`, a JSON report per quarantined file.

- A **sidecar** is read with its log, never alone: a log is read with the newest sidecar received at
  `<name>.session.json` (in this batch, else from `raw.archive_manifest`); a sidecar received after its
  log re-lands that log (same document, replaced), so the order of arrival does not matter. A sidecar
  without a log waits, never quarantined (a note in the run's log). A log without one lands, its
  session derived from its records.
- **Account**: a log's own handle (sidecar `handle`, else `session_start`), else its folder
  `inbox/<handle>/`; a LIVE Center file its folder (at the inbox root: quarantined, `account_handle`); a
  Backstage export is agency-wide: its folder, or `backstage` at the inbox root (creators are rows).
- **Export moment** (`exported_at`, naive UTC): a log's end (session `ended_at`, else its last record);
  Backstage's download time in the file name; else a dated folder `inbox/<handle>/<YYYY-MM-DD>/`; else
  the file's modification time.
- **Days** (`first/last_metric_date`): a log's UTC days, a Backstage period, LIVE Center days. The
  incremental marts recompute from the earliest, a day earlier for logs: a LIVE's day is the day it
  started in the account's time zone, at most a day before its UTC day.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd

from orchestration.lib.core.archive import document_id_for
from orchestration.lib.core.containers import MAX_ENTRY_BYTES, MAX_TOTAL_BYTES
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.quarantine import quarantine_reason, write_quarantine_report
from orchestration.lib.core.receipt_moments import folder_moment
from orchestration.lib.core.receipts import (
    Received,
    SourceLanding,
    inbox_folder_date,
    inbox_folder_handle,
    normalise_handle,
)
from orchestration.lib.core.warehouse import LIVE_RAW_TABLE_COLUMNS, replace_documents
from orchestration.lib.live import routing
from orchestration.lib.live.backstage import read_backstage_export
from orchestration.lib.live.documents import LiveDocument, clip
from orchestration.lib.live.event_log import read_live_log
from orchestration.lib.live.live_center import read_live_center_file
from orchestration.lib.live.validation import apply_contract
from schemas.live_contracts import LIVE_CONTRACTS, PLAUSIBILITY

LIVE_TABLES = tuple(LIVE_RAW_TABLE_COLUMNS)
ROW_FLAG_COLUMNS = ["document_id", "file", "source_row", "column_name", "rule", "value", "severity", "message"]
FLAG_SEVERITY = "warn"  # a plausibility flag in raw.row_flags, as Studio's
# Input read per chunk before validating and loading: large logs stay few in memory at once.
CHUNK_BYTES = 256 * 1024 * 1024
# A log's flags are about its events, except these (the session row); a sheet's about its one table.
_SESSION_RULES = frozenset(
    {"sidecar_event_count", *(c.name for c in LIVE_CONTRACTS["live_sessions"].checks)}
    | {c.name for col in LIVE_CONTRACTS["live_sessions"].columns.values() for c in col.checks}
)


def flag_table(file_kind: str | None, rule: str) -> str | None:
    """The raw LIVE table a flag of a document of this kind is about (None: a LIVE Center file of no kind)."""
    if file_kind == routing.LOG:
        return "live_sessions" if rule in _SESSION_RULES else "live_events"
    if file_kind == routing.BACKSTAGE:
        return "live_backstage_creators"
    return file_kind if file_kind in LIVE_RAW_TABLE_COLUMNS else None


class LiveSource:
    """The LIVE inputs as a receipt source for one landing (`studio.landing.land_inbox` / `replay_archive`).

    Remembers what it claimed, so a header is peeked once per receipt."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, str], str] = {}

    def claims(self, item: Received) -> tuple[str, str | None] | None:
        claim = routing.classify(item)
        if claim is not None:
            self._kinds[(item.sha256, item.inbox_path)] = claim[0]
        return claim

    def land(self, paths: DataPaths, con: duckdb.DuckDBPyConnection, items: list[Received]) -> SourceLanding:
        return land_live(paths, con, items, self._kinds)


@dataclass
class _Unit:
    """One document to read: a log (with its sidecar) or a sheet."""

    item: Received
    kind: str  # routing.LOG, BACKSTAGE, LIVE_CENTER
    sidecar: Received | None = None
    doc: LiveDocument | None = None
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    handle: str | None = None
    exported_at: datetime | None = None
    export_source: str | None = None

    @property
    def document_id(self) -> str:
        return document_id_for(self.item.sha256, self.item.inbox_path, "")


def land_live(
    paths: DataPaths,
    con: duckdb.DuckDBPyConnection,
    items: list[Received],
    kinds: dict[tuple[str, str], str] | None = None,
) -> SourceLanding:
    """Land LIVE receipts (in manifest order: for one path, a later receipt is a newer one); `kinds`: the
    routing's kind per (sha256, inbox path), when already known."""
    result = SourceLanding(documents=pd.DataFrame(), receipts=len(items), flags=_empty_flags())
    pairs, result.notes = routing.pair(con, paths, items, kinds or {})
    units = [_Unit(item, kind, sidecar) for item, kind, sidecar in pairs]
    landed_days: list[date] = []
    for chunk in _chunks(units):
        started = time.perf_counter()
        for unit in chunk:
            _read(unit)
        _add_seconds(result, "LIVE read", started)
        started = time.perf_counter()
        valid = _validate(chunk)
        _add_seconds(result, "LIVE validate", started)
        started = time.perf_counter()
        documents = _document_rows(chunk)
        flags = _flag_rows(chunk)
        # a log landed before and read again (a sidecar dropped later quarantines it, or names another account):
        # the marts recompute from the day its former rows began, which may be all it leaves behind
        landed_days += _withdrawn_log_days(con, [unit.document_id for unit in chunk if unit.kind == routing.LOG])
        replace_documents(con, valid, documents, flags[ROW_FLAG_COLUMNS], tables={t: t for t in LIVE_TABLES})
        _write_reports(paths, chunk)
        _add_seconds(result, "LIVE load raw tables", started)
        result.documents = (
            pd.concat([result.documents, documents], ignore_index=True) if len(result.documents) else documents
        )
        result.flags = pd.concat([result.flags, flags], ignore_index=True) if len(result.flags) else flags
        for table, frame in valid.items():
            result.rows_by_table[table] = result.rows_by_table.get(table, 0) + len(frame)
        for unit in chunk:
            if unit.doc.quarantined:
                result.issues += _structural_first(unit.doc)
            elif (first := _first_day(unit)) is not None:
                landed_days.append(first - timedelta(days=1) if unit.kind == routing.LOG else first)
    result.earliest_new_date = min(landed_days) if landed_days else None
    return result


def _chunks(units: list[_Unit]) -> Iterator[list[_Unit]]:
    chunk, size = [], 0
    for unit in units:
        chunk.append(unit)
        size += _size(unit.item)
        if size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _size(item: Received) -> int:
    try:
        return os.stat(item.stored).st_size
    except OSError:
        return 0


# --- reading --------------------------------------------------------------------------------------------


def _read(unit: _Unit) -> None:
    """Read one document; whatever goes wrong quarantines this file only."""
    item = unit.item
    try:
        (_read_log if unit.kind == routing.LOG else _read_sheet)(unit)
    except Exception as error:  # isolation: one bad file never stops the drop
        unit.doc = LiveDocument(unit.document_id, item.original_name, kind=unit.kind)
        unit.frames = {}
        unit.doc.fail("unreadable", f"the file could not be read ({type(error).__name__}: {clip(str(error), 300)})")
    if unit.doc.quarantined and unit.handle is None:  # named by its folder in the summary and the report
        unit.handle = inbox_folder_handle(item.inbox_path)


def _read_sheet(unit: _Unit) -> None:
    item = unit.item
    data = _bytes(unit, MAX_ENTRY_BYTES)
    if data is None:
        return
    if unit.kind == routing.BACKSTAGE:
        unit.handle = inbox_folder_handle(item.inbox_path) or routing.BACKSTAGE_AT_INBOX_ROOT
        export = read_backstage_export(data, document_id=unit.document_id, file_name=item.original_name)
        unit.doc, unit.frames = export.document, {"live_backstage_creators": export.creators}
        unit.doc.kind = routing.BACKSTAGE
    else:
        center = read_live_center_file(data, document_id=unit.document_id, file_name=item.original_name)
        unit.doc, unit.frames = center.document, ({center.table: center.days} if center.table else {})
        unit.doc.kind = unit.doc.kind or routing.LIVE_CENTER
        unit.handle = inbox_folder_handle(item.inbox_path)
        if unit.handle is None and not unit.doc.quarantined:
            unit.doc.fail("account_handle", "a LIVE Center file does not name its account: put it in inbox/<handle>/")
    _date_sheet(unit)


def _read_log(unit: _Unit) -> None:
    item = unit.item
    data = _bytes(unit, MAX_TOTAL_BYTES)
    if data is None:
        return
    sidecar = None
    if unit.sidecar is not None:
        with open(unit.sidecar.stored, "rb") as stream:  # a sidecar is a few hundred bytes: past the cap, not JSON
            sidecar = stream.read(MAX_ENTRY_BYTES)
    log = read_live_log(
        data,
        document_id=unit.document_id,
        file_name=item.original_name,
        sidecar=sidecar,
        sidecar_name=None if unit.sidecar is None else unit.sidecar.original_name,
    )
    unit.doc = log.document
    unit.frames = {"live_events": log.events, "live_sessions": log.sessions, "live_connections": log.connections}
    if unit.doc.quarantined:
        return
    starts = log.events.loc[log.events["event_type"] == "session_start", "handle"].dropna()
    candidates = [*log.sessions["handle"].dropna(), *starts]
    unit.handle = next((h for c in candidates if (h := normalise_handle(str(c)))), None)
    unit.handle = unit.handle or inbox_folder_handle(item.inbox_path)
    if unit.handle is None:
        unit.doc.fail(
            "account_handle",
            "the log names no account (no handle in its sidecar or session_start): put it in inbox/<handle>/live/",
        )
        return
    ended = log.sessions["ended_at"].dropna()
    unit.exported_at = (ended.max() if len(ended) else log.events["received_at"].max()).to_pydatetime()
    unit.export_source = "log_end"


def _bytes(unit: _Unit, limit: int) -> bytes | None:
    """The archived bytes, at most `limit` (past it the file is refused unread)."""
    with open(unit.item.stored, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        unit.doc = LiveDocument(unit.document_id, unit.item.original_name, kind=unit.kind)
        unit.doc.fail("file_size", f"larger than {limit:,} bytes: far larger than any LIVE file of this kind")
        return None
    return data


def _date_sheet(unit: _Unit) -> None:
    """A sheet's export moment: Backstage's download time in its name, else a dated folder, else the mtime."""
    folder_day = inbox_folder_date(unit.item.inbox_path)
    if unit.doc.exported_at is not None:
        unit.exported_at, unit.export_source = unit.doc.exported_at, "backstage_file_name"
    elif folder_day is not None:
        unit.exported_at, unit.export_source = folder_moment(folder_day, unit.item.mtime), "inbox_folder_date"
    else:
        unit.exported_at, unit.export_source = unit.item.mtime, "file_mtime"


# --- contracts ------------------------------------------------------------------------------------------


def _validate(chunk: list[_Unit]) -> dict[str, pd.DataFrame]:
    """Each raw table's rows of the chunk through its contract in one call; the rows of documents that load."""
    readable = [u for u in chunk if u.doc is not None and not u.doc.quarantined]
    docs = {u.document_id: u.doc for u in readable}
    stacked: dict[str, pd.DataFrame] = {}
    for table in LIVE_TABLES:
        frames = [u.frames[table] for u in readable if table in u.frames and len(u.frames[table])]
        if frames:
            stacked[table] = pd.concat(frames, ignore_index=True)
    for table, frame in stacked.items():
        before = {d: len(doc.issues) for d, doc in docs.items()}
        try:
            apply_contract(table, frame, docs)
        except Exception:  # rare: judge each document alone, so one that breaks pandera quarantines only itself
            for document_id, rows in frame.groupby("document_id", sort=False):
                del docs[document_id].issues[before[document_id] :]
                try:
                    apply_contract(table, rows, docs)
                except Exception as error:
                    docs[document_id].fail("unreadable", f"{table} could not be checked ({type(error).__name__})")
    quarantined = {d for d, doc in docs.items() if doc.quarantined}
    return {
        table: frame[~frame["document_id"].isin(quarantined)].reset_index(drop=True) for table, frame in stacked.items()
    }


# --- what is written --------------------------------------------------------------------------------------


def _document_rows(chunk: list[_Unit]) -> pd.DataFrame:
    """raw.documents rows, the Studio landing's columns."""
    landed_at = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for unit in chunk:
        doc, item = unit.doc, unit.item
        first, last = _days(unit)
        rows.append(
            {
                "document_id": unit.document_id,
                "archive_sha256": item.sha256,
                "member_name": item.original_name,  # a bare file: its own name, as for Studio
                "original_name": item.original_name,
                "account_handle": unit.handle,
                "file_kind": doc.kind or unit.kind,
                "export_date": None if unit.exported_at is None else pd.Timestamp(unit.exported_at.date()),
                "export_date_source": unit.export_source,
                "exported_at": None if unit.exported_at is None else pd.Timestamp(unit.exported_at),
                "status": "quarantined" if doc.quarantined else "loaded",
                "row_count": len(unit.frames.get(_main_table(unit), ())),
                "quarantine_reason": quarantine_reason(_structural_first(doc)) if doc.quarantined else None,
                "landed_at": landed_at,
                "first_metric_date": first,
                "last_metric_date": last,
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("export_date", "exported_at", "first_metric_date", "last_metric_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _main_table(unit: _Unit) -> str | None:
    return "live_events" if unit.kind == routing.LOG else next(iter(unit.frames), None)


def _days(unit: _Unit) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and last day a loaded document's rows cover (UTC days for a log)."""
    if unit.doc.quarantined:
        return None, None
    frame = unit.frames.get(_main_table(unit))
    if frame is None or frame.empty:
        return None, None
    if unit.kind == routing.LOG:
        first, last = frame["received_at"].min(), frame["received_at"].max()
    elif unit.kind == routing.BACKSTAGE:
        first, last = frame["period_start"].min(), frame["period_end"].max()
    else:
        first, last = frame["metric_date"].min(), frame["metric_date"].max()
    return (None, None) if pd.isna(first) else (first.normalize(), last.normalize())


def _withdrawn_log_days(con: duckdb.DuckDBPyConnection, document_ids: list[str]) -> list[date]:
    """For these logs already loaded (read again now), the day before the first day of any recording of the LIVEs
    they held: a LIVE that loses a recording may now end days before it, and is recomputed only from a window that
    reaches its new end (a LIVE's day can be the UTC day before)."""
    if not document_ids:
        return []
    loaded = [
        document_id
        for (document_id,) in con.execute(
            "select document_id from raw.documents where status = 'loaded' and list_contains(?, document_id)",
            [document_ids],
        ).fetchall()
    ]
    if not loaded:
        return []
    (day,) = con.execute(
        """with rooms as (
            select room_id from raw.live_sessions where list_contains($1, document_id)
            union
            select room_id from raw.live_events where list_contains($1, document_id)
        )
        select least(
            (select min(first_metric_date) from raw.documents where list_contains($1, document_id)),
            (select min(cast(started_at as date)) from raw.live_sessions where room_id in (select room_id from rooms)),
            (select min(cast(received_at as date)) from raw.live_events where room_id in (select room_id from rooms))
        ) - 1""",
        [loaded],
    ).fetchone()
    return [] if day is None else [day]


def _first_day(unit: _Unit) -> date | None:
    first, _ = _days(unit)
    return None if first is None else first.date()


def _structural_first(doc: LiveDocument) -> list:
    """Issues with the structural ones first: the quarantine reason names what stopped the file."""
    return sorted(doc.issues, key=lambda issue: issue.severity == PLAUSIBILITY)


def _flag_rows(chunk: list[_Unit]) -> pd.DataFrame:
    """raw.row_flags rows of the documents that load, plus the raw table each flag is about."""
    rows = []
    for unit in chunk:
        if unit.doc.quarantined:
            continue
        for issue in unit.doc.flags:
            rows.append(
                {
                    "document_id": unit.document_id,
                    "file": issue.file,
                    "source_row": issue.row or None,  # 0 is the header: a flag about the whole file
                    "column_name": issue.column,
                    "rule": issue.rule,
                    "value": issue.value,
                    "severity": FLAG_SEVERITY,
                    "message": issue.message,
                    "table": flag_table(unit.doc.kind or unit.kind, issue.rule),
                }
            )
    frame = pd.DataFrame(rows, columns=[*ROW_FLAG_COLUMNS, "table"]) if rows else _empty_flags()
    frame["source_row"] = frame["source_row"].astype("Int64")
    return frame


def _empty_flags() -> pd.DataFrame:
    return pd.DataFrame(columns=[*ROW_FLAG_COLUMNS, "table"])


def _write_reports(paths: DataPaths, chunk: list[_Unit]) -> None:
    for unit in chunk:
        if unit.doc.quarantined:
            write_quarantine_report(
                paths,
                document_id=unit.doc.document_id,
                archive_sha256=unit.item.sha256,
                original_name=unit.item.original_name,
                member_name=unit.item.original_name,
                display_name=unit.item.original_name,
                account_handle=unit.handle,
                file_kind=unit.doc.kind or unit.kind,
                issues=_structural_first(unit.doc),
                inbox_path=unit.item.inbox_path,
            )


def _add_seconds(result: SourceLanding, step: str, started: float) -> None:
    result.seconds[step] = result.seconds.get(step, 0.0) + time.perf_counter() - started
