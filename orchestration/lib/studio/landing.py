"""Inbox → immutable archive → validated raw tables, as one batch.

The cost of a run is proportional to what is new (see `core.receipts`), and each file kind is validated
once per batch. Each new receipt goes to the first `ReceiptSource` that claims it (the LIVE inputs,
passed in by the caller: lib/studio may not import lib/live), and Studio reads the rest. `replay_archive`
re-reads every receipt listed in `manifest.jsonl` from the archive (after a contract change, or to
rebuild a lost working database) through the same routing: it never reads the list of files from the
working database it rebuilds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.core.archive import ManifestRow, altered_objects, read_manifest
from orchestration.lib.core.collector import full_collections_deferred
from orchestration.lib.core.dbt_selection import request_full_refresh
from orchestration.lib.core.dbt_vars import handle_aliases
from orchestration.lib.core.inbox import InboxWalk
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.quarantine import write_quarantine_report
from orchestration.lib.core.receipt_manifest import record_manifest
from orchestration.lib.core.receipts import (
    ReceiptSource,
    Received,
    SourceLanding,
    archive_new_inbox_files,
    received_from_manifest,
    remember_scan,
    strip_browser_repeat,
)
from orchestration.lib.core.warehouse import forget_studio_documents, replace_documents
from orchestration.lib.studio.checking import BatchChecker, CheckedBatch, PendingCheck, all_flags
from orchestration.lib.studio.moved_files import apply_moves, decide_moves, moved_files, record_moves
from orchestration.lib.studio.provenance import facts_from_name
from orchestration.lib.studio.reader import Document, Issue
from orchestration.lib.studio.run_summary import file_quarantine_reports
from orchestration.lib.studio.validation import ROW_FLAG_COLUMNS, empty_flags
from schemas.studio_files import STUDIO_FILE_KINDS


@dataclass
class LandingReport:
    files_seen: int = 0
    files_new: int = 0
    documents: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows_by_kind: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    flags: pd.DataFrame = field(default_factory=empty_flags)  # plausibility flags of rows that landed
    seconds: dict[str, float] = field(default_factory=dict)  # per landing step, for the benchmark
    inbox: InboxWalk = field(default_factory=InboxWalk)  # litter ignored, entries refused (log them once a run)
    stored: dict[str, int] = field(default_factory=dict)  # new archive objects linked / copied, bytes already present
    archive_set_aside: list[str] = field(default_factory=list)  # objects a stopped landing cut short (archive_upkeep)
    full_scan: bool = False  # every inbox folder listed and every file stat'ed (no folder cache used)
    manifest_lines_unreadable: int = 0  # replay: torn or garbled manifest lines skipped
    moved: list = field(default_factory=list)  # files moved to another account's folder (`studio.moved_files`)
    # What each plugged-in source (LIVE) landed; its documents, issues, rows and flags are merged in above.
    sources: list[SourceLanding] = field(default_factory=list)

    @property
    def quarantined(self) -> pd.DataFrame:
        if self.documents.empty:
            return self.documents
        return self.documents[self.documents["status"] == "quarantined"]

    @property
    def earliest_new_date(self):
        """The earliest metric day touched by this batch: dbt recomputes incrementals from here."""
        loaded = self.documents[self.documents["status"] == "loaded"] if len(self.documents) else None
        days = [] if loaded is None or loaded.empty else [loaded["first_metric_date"].min()]
        days += [pd.Timestamp(s.earliest_new_date) for s in self.sources if s.earliest_new_date is not None]
        days = [day for day in days if not pd.isna(day)]
        return min(days) if days else None


# Both landings run with Python's full collections deferred until they return (`core.collector`). A drop's landing
# keeps a few objects per file until the drop is recorded (receipts, manifest rows, their texts): each time they grow
# by a quarter the collector walks every object of the process, ~0.2 s a time with nothing to free: 0.9 s of a
# 300 x 90 landing (landed in process with the definitions loaded: 14.1-14.5 -> 13.6 s).


@full_collections_deferred()
def land_inbox(
    paths: DataPaths,
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[ReceiptSource] = (),
    on_new: Callable[[int], None] | None = None,
    on_loaded: Callable[[LandingReport], None] | None = None,
) -> LandingReport:
    """Archive every new file in the inbox and load what passes its contract; `sources` (the LIVE inputs)
    land the receipts they claim, Studio the rest. `on_new` learns how many inbox files are new once they are
    listed, before they are hashed. `on_loaded` gets the report once every row is loaded and before any receipt
    is recorded: what the next build must recompute is written there (a crash after the receipts are recorded
    would otherwise leave loaded rows that no build recomputes, as their files are not landed again).

    A large drop flows: every `BATCH_FILES` receipts archived are handed to the check workers, which read and
    validate them while this process hashes and links the next files and loads the batches checked before."""
    paths.ensure()
    report = LandingReport()
    started, began = time.perf_counter(), datetime.now(UTC).replace(tzinfo=None)
    with BatchChecker() as checker, _StudioBatches(paths, con, report, checker) as studio:
        routed = _Routed(sources, studio)
        # a large drop's check workers start (a second of imports) while its first files are hashed and linked

        def new_files(count: int) -> None:
            checker.prepare(count)
            if on_new is not None:
                on_new(count)

        scan = archive_new_inbox_files(paths, con, on_new=new_files, on_archived=routed.add, commit_every=BATCH_FILES)
        report.files_seen, report.files_new, report.inbox = scan.files_seen, len(scan.received), scan.walk
        report.archive_set_aside, report.full_scan = scan.set_aside, scan.full_scan_at is not None
        report.stored = scan.stored
        # the batches loaded while files were still being hashed count as loading, not as the scan
        spent_loading = sum(report.seconds.values())
        report.seconds["scan + archive"] = time.perf_counter() - started - spent_loading
        routed.finish(paths, con, report)
    if on_loaded is not None:
        on_loaded(report)
    # Recorded only after the documents are loaded: a crash before this point re-lands the same
    # bytes next time (idempotently), instead of leaving archived files nobody read.
    # decided before the receipts are recorded (the new ones are told apart from those of earlier landings), written
    # after: a line never names a receipt the manifest lacks
    moves = [(r.sha256, r.inbox_path, datetime.fromisoformat(r.source_mtime), who)
             for r, (_, who) in zip(scan.manifest_rows, routed.claims, strict=True)]  # fmt: skip
    decided = decide_moves(paths, con, moves)
    record_manifest(paths, con, scan.manifest_rows, report.documents, claims=routed.claims)
    record_moves(paths, decided)
    apply_moves(paths, con, partial(_reland, paths, con, sources))
    report.moved = moved_files(paths, con, since=began)
    remember_scan(con, scan)
    file_quarantine_reports(paths, con)  # also after a landing stopped before it filed them
    return report


class ReplayError(RuntimeError):
    """The archive cannot be replayed as it is (nothing was changed)."""


@full_collections_deferred()
def replay_archive(
    paths: DataPaths,
    con: duckdb.DuckDBPyConnection,
    sources: Sequence[ReceiptSource] = (),
    before_change: Callable[[], None] | None = None,
) -> LandingReport:
    """Rebuild the Studio (and, with `sources`, the LIVE) raw tables and raw.archive_manifest from
    manifest.jsonl and the archive alone.

    Every receipt is read again with its original inbox path and mtime, so documents get the same ids
    and anchors as when they landed, and goes to the reader today's routing picks; rows of documents no
    receipt produces any more are removed. Manifest lines are kept as they were written. `before_change` is
    called once every check passed, right before the first row changes (`replay_state.replay_under_way`).
    """
    rows, unreadable = read_manifest(paths.manifest)
    if not rows and any(paths.archive.glob("[0-9a-f][0-9a-f]/*")):
        raise ReplayError(f"{paths.manifest} lists no receipt but the archive holds files: nothing was replayed")
    received = received_from_manifest(paths, rows)
    altered = altered_objects((item.sha256, item.stored) for item in received)
    if altered:  # a replay rebuilds what landed, or nothing: never other bytes under a receipt's hash
        raise ReplayError(
            f"{len(altered)} archived file(s) no longer hold the bytes they were stored with, e.g. "
            f"{', '.join(altered[:3])}: nothing was replayed. Restore them from a backup of the archive (a file's "
            "name is the sha256 of the bytes it must hold), then replay again."
        )
    try:  # the checks read the handle aliases: a mistake there must stop the replay before any row changes
        handle_aliases()
    except ValueError as mistake:
        raise ReplayError(f"{mistake}: nothing was replayed. Correct it, then replay again.") from None
    if before_change is not None:
        before_change()
    # before any row changes: rows a replay withdraws (a file now quarantined) leave the marts only by a full
    # refresh, which every daily run does until one ends well, should the replay's own not
    request_full_refresh(con)
    forget_studio_documents(con)
    report = LandingReport(files_seen=len(received), manifest_lines_unreadable=unreadable)
    with BatchChecker() as checker, _StudioBatches(paths, con, report, checker) as studio:
        checker.prepare(len(received))
        routed = _Routed(sources, studio)
        routed.add(received)
        routed.finish(paths, con, report)
    fields = ManifestRow.__dataclass_fields__
    receipts = [ManifestRow(**{name: row.get(name) for name in fields}) for row in rows]
    record_manifest(paths, con, receipts, report.documents, append_to_file=False)
    apply_moves(paths, con, partial(_reland, paths, con, sources))  # the moves the landings decided
    file_quarantine_reports(paths, con)
    return report


def _reland(paths: DataPaths, con: duckdb.DuckDBPyConnection, sources: Sequence[ReceiptSource], rows: list) -> None:
    """Read receipts again from the archive, given their manifest rows: a file moved back to its first place."""
    report = LandingReport()
    with BatchChecker() as checker, _StudioBatches(paths, con, report, checker) as studio:
        checker.prepare(len(rows))
        routed = _Routed(sources, studio)
        routed.add(received_from_manifest(paths, rows))
        routed.finish(paths, con, report)


class _Routed:
    """Each receipt to the first source claiming it (LIVE, landed at the end, all together), the rest to the
    Studio batches as they come; remembers each receipt's claim for its manifest line."""

    def __init__(self, sources: Sequence[ReceiptSource], studio: _StudioBatches):
        self.sources, self.studio = sources, studio
        self.claimed: list[list[Received]] = [[] for _ in sources]
        self.claims: list[tuple[str, str | None]] = []  # (file kind, account) per receipt, in order

    def add(self, received: list[Received]) -> None:
        studio = []
        for item in received:
            claim = None
            for index, source in enumerate(self.sources):
                if (claim := source.claims(item)) is not None:
                    self.claimed[index].append(item)
                    break
            if claim is None:
                studio.append(item)
                claim = _studio_claim(item)
            self.claims.append(claim)
        self.studio.add(studio)

    def finish(self, paths: DataPaths, con: duckdb.DuckDBPyConnection, report: LandingReport) -> None:
        self.studio.finish()
        for source, items in zip(self.sources, self.claimed, strict=True):
            if items:
                _merge(report, source.land(paths, con, items))


def _studio_claim(item: Received) -> tuple[str, str | None]:
    """The manifest's file kind and account of a Studio receipt, from its name (the reader judges the rest)."""
    try:
        names = facts_from_name(item.inbox_path)
    except Exception:  # isolation: the reader quarantines this file with the reason; the manifest still records it
        return _file_kind(item.original_name, None), None
    return _file_kind(item.original_name, names.section), names.handle


def _merge(report: LandingReport, landed: SourceLanding) -> None:
    report.sources.append(landed)
    frames = [frame for frame in (report.documents, landed.documents) if len(frame)]
    report.documents = pd.concat(frames, ignore_index=True) if frames else report.documents
    report.issues += landed.issues
    if landed.flags is not None and len(landed.flags):
        flags = landed.flags[ROW_FLAG_COLUMNS]
        report.flags = pd.concat([report.flags, flags], ignore_index=True) if len(report.flags) else flags
    for table, count in landed.rows_by_table.items():
        report.rows_by_kind[table] = report.rows_by_kind.get(table, 0) + count
    _add_step_seconds(report, landed.seconds)


_SECTION_KIND = {"Overview": "overview", "Content": "content", "Followers": "followers", "Viewers": "viewers"}


def _file_kind(name: str, section: str | None) -> str:
    """The manifest's file kind of a Studio receipt: the ZIP's section, or the bare file's kind by name."""
    if section:
        return _SECTION_KIND[section]
    stem = strip_browser_repeat(Path(name).stem).lower()
    return next((k.kind for k in STUDIO_FILE_KINDS.values() if k.entry_stem.lower() == stem), "unknown")


# Files per batch: big enough that pandera and DuckDB work on large frames, small enough that an
# agency's 100,000-file backfill never holds all of its rows in memory at once, and that the workers start on the
# first batch soon and the last one leaves them little to finish while this process waits (300 x 90 landed in
# process, 8 runs against 5: 10,000 files 14.5 s, 5,000 files 13.9 s, 2,500 no better; the raw tables the same).
BATCH_FILES = 5_000
# Batches checked ahead of the one being loaded: the workers never wait for this process, and at most this many
# batches' checked rows wait in memory.
AHEAD_BATCHES = 2
# Batches loaded in one transaction. DuckDB writes a transaction's full row groups straight into the database file
# and only the rest to its log, so fewer, larger transactions write most rows once instead of twice (log, then
# checkpoint), and commit (an fsync) less often; its uncommitted rows wait in memory until the commit, so not the
# whole drop in one (300 x 90 landed in process, alternating: the loads 5.7-6.0 -> 3.4-3.9 s with the whole drop in
# one transaction, then its commit 1.1 s and 355 MB more memory).
BATCHES_PER_TRANSACTION = 4


class _StudioBatches:
    """Studio receipts checked in batches of `BATCH_FILES` (`checking.BatchChecker`: on workers for a large
    drop, up to `AHEAD_BATCHES` ahead) and loaded in the order received, `BATCHES_PER_TRANSACTION` to a
    transaction. Every contract rule is per document, so neither batching nor workers change what lands. Use as a
    context manager: leaving early (an error) rolls back the batches not committed yet."""

    def __init__(self, paths: DataPaths, con: duckdb.DuckDBPyConnection, report: LandingReport, checker: BatchChecker):
        self.paths, self.con, self.report, self.checker = paths, con, report, checker
        self.waiting: list[Received] = []  # not a whole batch yet
        self.ahead: deque[PendingCheck] = deque()
        self.submitted = 0
        self.uncommitted = 0  # batches loaded in the open transaction; none open while 0
        self.unreported: list[Document] = []  # their quarantined documents: reports written once committed
        report.documents, report.flags = pd.DataFrame(), empty_flags()

    def __enter__(self) -> _StudioBatches:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if self.uncommitted:  # left early: what it loaded since the last commit goes (the next run lands it again)
            self.uncommitted, self.unreported = 0, []
            try:
                self.con.execute("rollback")
            except duckdb.Error:  # (a connection closed or interrupted): the error on its way says more
                if exc_type is None:
                    raise

    def add(self, received: list[Received]) -> None:
        self.waiting += received
        while len(self.waiting) >= BATCH_FILES:
            self._submit(self.waiting[:BATCH_FILES])
            self.waiting = self.waiting[BATCH_FILES:]

    def finish(self) -> None:
        if self.waiting or not self.submitted:  # an empty landing still "loads" its empty batch
            self._submit(self.waiting)
            self.waiting = []
        while self.ahead:
            self._load_next()
        self._commit()

    def _submit(self, batch: list[Received]) -> None:
        self.ahead.append(self.checker.submit(batch))
        self.submitted += 1
        while len(self.ahead) > AHEAD_BATCHES:
            self._load_next()

    def _load_next(self) -> None:
        checked = self.ahead.popleft().result()
        _add_step_seconds(self.report, checked.seconds)
        if not self.uncommitted:
            self.con.execute("begin transaction")
        self.uncommitted += 1
        _load_batch(self.con, checked, self.report)
        self.unreported += checked.quarantined
        if self.uncommitted >= BATCHES_PER_TRANSACTION:
            self._commit()

    def _commit(self) -> None:
        """Commit the open transaction, then write the quarantine reports of its documents: a transaction rolled back
        leaves no report of its own (the alerts read them)."""
        if not self.uncommitted:
            return
        started = time.perf_counter()
        # DuckDB ends a transaction an error aborted with a commit that says nothing and keeps nothing: such an error
        # was raised, but should some caller ever swallow it, this query raises again instead of losing the batches
        self.con.execute("select 1").fetchall()
        self.con.execute("commit")
        self.uncommitted = 0
        for doc in self.unreported:
            write_quarantine_report(
                self.paths,
                document_id=doc.document_id,
                archive_sha256=doc.archive_sha256,
                original_name=doc.original_name,
                member_name=doc.member_name,
                display_name=doc.display_name,
                account_handle=doc.account_handle,
                file_kind=doc.kind,
                issues=doc.issues,
                inbox_path=doc.inbox_path,
            )
        self.unreported = []
        _add_seconds(self.report, "load raw tables", started)


def _load_batch(con: duckdb.DuckDBPyConnection, checked: CheckedBatch, report: LandingReport) -> None:
    started = time.perf_counter()
    facts, valid = checked.facts, checked.valid
    batch_flags = all_flags(checked)
    if len(facts):
        landed_at = datetime.now(UTC).replace(tzinfo=None)
        facts.insert(facts.columns.get_loc("quarantine_reason") + 1, "landed_at", landed_at)
        replace_documents(con, valid, facts, batch_flags, in_open_transaction=True)
    report.flags = pd.concat([report.flags, batch_flags], ignore_index=True) if len(report.flags) else batch_flags
    report.documents = pd.concat([report.documents, facts], ignore_index=True) if len(report.documents) else facts
    for kind, frame in valid.items():
        report.rows_by_kind[kind] = report.rows_by_kind.get(kind, 0) + len(frame)
    report.issues += [issue for d in checked.quarantined for issue in d.issues]
    _add_seconds(report, "load raw tables", started)


def _add_seconds(report: LandingReport, step: str, started: float) -> None:
    _add_step_seconds(report, {step: time.perf_counter() - started})


def _add_step_seconds(report: LandingReport, seconds: dict[str, float]) -> None:
    for step, spent in seconds.items():
        report.seconds[step] = report.seconds.get(step, 0.0) + spent
