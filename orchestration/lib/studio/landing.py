"""Inbox → immutable archive → validated raw tables, as one batch.

The cost of a run is proportional to what is new: unchanged inbox files are recognised by
(path, size, mtime) without being read, archived bytes are recognised by hash, and each file kind is
validated once per batch. `replay_archive` re-reads everything already archived (after a contract
change, or to rebuild a lost working database) through the same path.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa

from orchestration.lib.core.archive import (
    ManifestRow,
    append_manifest,
    archive_path_for,
    is_received_file,
    sha256_of,
    store,
)
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.warehouse import replace_documents
from orchestration.lib.studio.provenance import facts_from_name, strip_browser_repeat
from orchestration.lib.studio.reader import Document, Issue, frames_by_kind, read_received_file
from schemas.studio_contracts import CHECK_FOCUS, CONTRACTS, coerce_numbers, describe_failure
from schemas.studio_files import STUDIO_FILE_KINDS

_SECTION_KIND = {"Overview": "overview", "Content": "content", "Followers": "followers", "Viewers": "viewers"}


@dataclass(frozen=True)
class Received:
    """A file to land: where its bytes are and what its name and inbox place say."""

    sha256: str
    stored: Path  # archive copy
    original_name: str
    inbox_path: str
    mtime: datetime


@dataclass
class LandingReport:
    files_seen: int = 0
    files_new: int = 0
    documents: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows_by_kind: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per landing step, for the benchmark

    @property
    def quarantined(self) -> pd.DataFrame:
        if self.documents.empty:
            return self.documents
        return self.documents[self.documents["status"] == "quarantined"]

    @property
    def earliest_new_date(self):
        """The earliest metric day touched by this batch: dbt recomputes incrementals from here."""
        loaded = self.documents[self.documents["status"] == "loaded"] if len(self.documents) else None
        if loaded is None or loaded.empty:
            return None
        return loaded["first_metric_date"].min()


def land_inbox(paths: DataPaths, con: duckdb.DuckDBPyConnection) -> LandingReport:
    """Archive every new file in the inbox and load what passes its contract."""
    paths.ensure()
    report = LandingReport()
    started = time.perf_counter()
    received, manifest_rows, seen_rows = _archive_new_inbox_files(paths, con, report)
    report.seconds["scan + archive"] = time.perf_counter() - started
    _load(paths, con, received, report)
    # Recorded only after the documents are loaded: a crash before this point re-lands the same
    # bytes next time (idempotently), instead of leaving archived files nobody read.
    _record_manifest(paths, con, manifest_rows, report.documents)
    _remember_inbox_files(con, seen_rows)
    return report


def _remember_inbox_files(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """One bulk upsert (a row-by-row executemany takes minutes for an agency's backfill)."""
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=["inbox_path", "size_bytes", "mtime_ns", "sha256"])
    con.register("seen_inbox_files", frame)
    con.execute("insert or replace into landing.inbox_files select * from seen_inbox_files")
    con.unregister("seen_inbox_files")


def replay_archive(paths: DataPaths, con: duckdb.DuckDBPyConnection) -> LandingReport:
    """Re-read every archived object (idempotent: documents are replaced, never appended)."""
    rows = con.execute(
        "select sha256, archive_path, original_name, inbox_path, source_mtime from raw.archive_manifest order by sha256"
    ).fetchall()
    received = [Received(s, paths.archive / a, o, i, m) for s, a, o, i, m in rows]
    report = LandingReport(files_seen=len(received))
    return _load(paths, con, received, report)


def _archive_new_inbox_files(
    paths: DataPaths, con: duckdb.DuckDBPyConnection, report: LandingReport
) -> tuple[list[Received], list[ManifestRow], list[tuple]]:
    known = {p: (s, m, h) for p, s, m, h in con.execute("select * from landing.inbox_files").fetchall()}
    archived = {h for (h,) in con.execute("select sha256 from raw.archive_manifest").fetchall()}
    seen_rows, manifest_rows, received = [], [], []
    now = datetime.now(UTC).replace(tzinfo=None)
    # Sorted so that, within one drop, the same bytes under two names are recorded under the first name.
    for path in sorted(p for p in paths.inbox.rglob("*") if p.is_file() and is_received_file(p)):
        report.files_seen += 1
        relative = path.relative_to(paths.inbox).as_posix()
        stat = path.stat()
        cached = known.get(relative)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            continue
        sha = sha256_of(path)
        seen_rows.append((relative, stat.st_size, stat.st_mtime_ns, sha))
        if sha in archived:
            continue  # the same bytes were received before: recorded once
        archived.add(sha)
        destination = archive_path_for(paths.archive, sha, path.name)
        store(path, destination)
        mtime = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
        received.append(Received(sha, destination, path.name, relative, mtime))
        names = facts_from_name(relative)
        manifest_rows.append(
            ManifestRow(
                sha256=sha,
                original_name=path.name,
                inbox_path=relative,
                archive_path=destination.relative_to(paths.archive).as_posix(),
                account_handle=names.handle,
                file_kind=_file_kind(path.name, names.section),
                export_date=None,  # filled from the documents once read (anchors need the contents)
                export_date_source=None,
                size_bytes=stat.st_size,
                source_mtime=mtime.isoformat(),
                received_at=now.isoformat(),
            )
        )
    report.files_new = len(received)
    return received, manifest_rows, seen_rows


def _file_kind(name: str, section: str | None) -> str:
    if section:
        return _SECTION_KIND[section]
    stem = strip_browser_repeat(Path(name).stem).lower()
    return next((k.kind for k in STUDIO_FILE_KINDS.values() if k.entry_stem.lower() == stem), "unknown")


def _record_manifest(
    paths: DataPaths, con: duckdb.DuckDBPyConnection, rows: list[ManifestRow], documents: pd.DataFrame
) -> None:
    """Append new archive objects to manifest.jsonl and raw.archive_manifest, with their export date."""
    if not rows:
        return
    if len(documents):
        dated = (
            documents.sort_values(["archive_sha256", "document_id"])
            .groupby("archive_sha256")
            .agg(
                export_date=("export_date", "max"),
                source=("export_date_source", "first"),
                handle=("account_handle", "max"),
            )
        )
        for i, row in enumerate(rows):
            if row.sha256 in dated.index:
                fact = dated.loc[row.sha256]
                rows[i] = replace(
                    row,
                    export_date=fact["export_date"].date().isoformat(),
                    export_date_source=fact["source"],
                    account_handle=row.account_handle or (None if pd.isna(fact["handle"]) else fact["handle"]),
                )
    append_manifest(paths.manifest, rows)
    frame = pd.DataFrame([asdict(r) for r in rows])
    con.register("incoming_manifest", frame)
    con.execute(
        """insert or ignore into raw.archive_manifest
        select sha256, original_name, inbox_path, archive_path, account_handle, file_kind,
               cast(export_date as date), export_date_source, size_bytes,
               cast(source_mtime as timestamp), cast(received_at as timestamp)
        from incoming_manifest"""
    )
    con.unregister("incoming_manifest")


# Files per batch: big enough that pandera and DuckDB work on large frames, small enough that an
# agency's 100,000-file backfill never holds all of its rows in memory at once.
BATCH_FILES = 10_000


def _load(
    paths: DataPaths, con: duckdb.DuckDBPyConnection, received: list[Received], report: LandingReport
) -> LandingReport:
    """Read, validate and load in batches; every contract rule is per document, so batching changes nothing."""
    report.documents = pd.DataFrame()
    for start in range(0, max(len(received), 1), BATCH_FILES):
        _load_batch(paths, con, received[start : start + BATCH_FILES], report)
    return report


def _load_batch(
    paths: DataPaths, con: duckdb.DuckDBPyConnection, received: list[Received], report: LandingReport
) -> None:
    started = time.perf_counter()
    documents: list[Document] = []
    for item in received:
        names = facts_from_name(item.inbox_path)
        documents.extend(read_received_file(item.sha256, item.original_name, item.stored, names, item.mtime))
    frames = frames_by_kind(documents)
    _add_seconds(report, "read + parse", started)
    started = time.perf_counter()
    by_id = {d.document_id: d for d in documents}
    valid: dict[str, pd.DataFrame] = {}
    for kind, frame in frames.items():
        typed, type_failures = coerce_numbers(kind, frame)
        failures = [type_failures]
        try:
            CONTRACTS[kind].validate(typed, lazy=True)
        except pa.errors.SchemaErrors as errors:
            failures.append(errors.failure_cases)
        _record_failures(kind, typed, pd.concat(failures, ignore_index=True), by_id)
        bad = {d.document_id for d in documents if d.kind == kind and d.issues}
        valid[kind] = typed[~typed["document_id"].isin(bad)]

    _add_seconds(report, "validate (pandera)", started)
    started = time.perf_counter()
    facts = _document_rows(documents, valid)
    if documents:
        replace_documents(con, valid, facts)
    report.documents = pd.concat([report.documents, facts], ignore_index=True) if len(report.documents) else facts
    for kind, frame in valid.items():
        report.rows_by_kind[kind] = report.rows_by_kind.get(kind, 0) + len(frame)
    report.issues += [issue for d in documents for issue in d.issues]
    _write_quarantine_reports(paths, documents)
    _add_seconds(report, "load raw tables", started)


def _add_seconds(report: LandingReport, step: str, started: float) -> None:
    report.seconds[step] = report.seconds.get(step, 0.0) + time.perf_counter() - started


def _record_failures(kind: str, frame: pd.DataFrame, failures: pd.DataFrame, by_id: dict[str, Document]) -> None:
    """Attach contract failures to their documents: one issue per (row, rule)."""
    if failures.empty:
        return
    failures = failures[failures["index"].notna()]
    for (index, check), group in failures.groupby(["index", "check"], sort=True):
        focus = CHECK_FOCUS.get(str(check))
        hit = group[group["column"] == focus] if focus else group
        row = (hit if len(hit) else group).iloc[0]
        record = frame.loc[int(index)]
        by_id[record["document_id"]].fail(
            str(check),
            describe_failure(str(check), kind),
            row=int(record["source_row"]),
            column=None if pd.isna(row["column"]) else str(row["column"]),
            value=None if pd.isna(row["failure_case"]) else str(row["failure_case"]),
        )


def _document_rows(documents: list[Document], valid: dict[str, pd.DataFrame]) -> pd.DataFrame:
    landed_at = datetime.now(UTC).replace(tzinfo=None)
    ranges = {}
    for frame in valid.values():
        if "metric_date" in frame and len(frame):
            spans = frame.groupby("document_id")["metric_date"].agg(["min", "max"])
            ranges.update(zip(spans.index, zip(spans["min"], spans["max"], strict=True), strict=True))
    rows = []
    for d in documents:
        first, last = ranges.get(d.document_id, (None, None))
        rows.append(
            {
                "document_id": d.document_id,
                "archive_sha256": d.archive_sha256,
                "member_name": d.member_name,
                "original_name": d.original_name,
                "account_handle": d.account_handle,
                "file_kind": d.kind,
                "export_date": pd.Timestamp(d.anchor.export_date),
                "export_date_source": d.anchor.source,
                "exported_at": pd.Timestamp(d.anchor.exported_at),
                "status": "quarantined" if d.issues else "loaded",
                "row_count": len(d.rows),
                "quarantine_reason": _reason(d.issues) if d.issues else None,
                "landed_at": landed_at,
                "first_metric_date": first,
                "last_metric_date": last,
            }
        )
    return pd.DataFrame(rows)


def _reason(issues: list[Issue]) -> str:
    first = issues[0]
    where = f" (row {first.row}" + (f", column {first.column}" if first.column else "") + ")" if first.row else ""
    more = f"; {len(issues) - 1} more issue(s)" if len(issues) > 1 else ""
    return f"{first.rule}: {first.message}{where}{more}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _write_quarantine_reports(paths: DataPaths, documents: list[Document]) -> None:
    """One JSON report per quarantined document under raw/quarantine/ (rewritten, never appended)."""
    for doc in documents:
        if not doc.issues:
            continue
        member = doc.member_name if doc.member_name != doc.original_name else ""
        name = _UNSAFE.sub("_", f"{doc.archive_sha256[:12]}_{doc.original_name}_{member}")
        report = {
            "file": doc.display_name,
            "archive_sha256": doc.archive_sha256,
            "account_handle": doc.account_handle,
            "file_kind": doc.kind,
            "what_to_do": "Fix or re-download the file and drop it into the inbox again; the archived "
            "original is kept unchanged.",
            "issues": [
                {k: v for k, v in issue.__dict__.items() if k not in ("document_id", "file")} for issue in doc.issues
            ],
        }
        target = paths.quarantine / f"{name.rstrip('_')}.json"
        text = json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
