"""Landing assets: the inbox, the immutable archive and one validated raw table per Studio file kind and per
LIVE table (`defs/live.py`): one batch lands every receipt, LIVE inputs through `lib/live/landing.LiveSource`.

Asset checks say what the severity model (schemas/studio_contracts.py) did in this run, both WARN:
`no_structural_problems` on raw/documents (files quarantined whole, with the reason) and `flagged_rows`
on each raw table (rows that landed with a plausibility flag, recorded in raw.row_flags).
"""

from datetime import date
from functools import partial

import dagster as dg
import pandas as pd

from orchestration.defs.live import live_asset_specs, live_check_specs, live_results, live_tables_of_kind
from orchestration.defs.raw_tables import raw_table_results
from orchestration.defs.resources import DataDirResource, validates_published_marts
from orchestration.lib.core import dbt_worker
from orchestration.lib.core.dbt_invocation import warm_up_in_background
from orchestration.lib.core.dbt_selection import record_changed_sources
from orchestration.lib.core.inbox import describe_skipped, shown_name
from orchestration.lib.core.replay_state import replay_under_way, unfinished_replay
from orchestration.lib.core.warehouse import record_pending_min_date
from orchestration.lib.live.landing import LiveSource, flag_table
from orchestration.lib.marts import quality_worker
from orchestration.lib.studio.checking import workers_check
from orchestration.lib.studio.landing import LandingReport, land_inbox, replay_archive
from orchestration.lib.studio.run_summary import issue_places
from schemas.studio_files import STUDIO_FILE_KINDS

INBOX = dg.AssetKey(["raw", "inbox"])
ARCHIVE = dg.AssetKey(["raw", "archive_manifest"])
DOCUMENTS = dg.AssetKey(["raw", "documents"])
ROW_FLAGS = dg.AssetKey(["raw", "row_flags"])
TABLE_ROWS = 200  # rows of a markdown table in the UI; the rest stay queryable (quarantine folder, raw.row_flags)

inbox = dg.AssetSpec(
    INBOX,
    description="Files dropped by the user into <data>/raw/inbox/ exactly as TikTok delivered them. "
    "Read only: nothing in the inbox is ever modified or deleted.",
    group_name="landing",
)


def raw_table_key(kind: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", f"studio_{kind}"])


def _warm_up_workers(new_files: int, *, validates: bool = True) -> None:
    """New files mean a dbt build next: its worker process imports dbt meanwhile (`lib/core/dbt_worker.py`). Without
    one (the test suite), a drop big enough for the check workers, whose landing process mostly waits on them, loads
    dbt's runner on a thread here; not a small drop, landed in this process, whose Python would take turns with the
    import (the demo: landing +0.4 s, dbt -0.3 s).

    great-expectations validates after dbt. Its worker imports GE from the dbt build's start
    (`lib/marts/quality_worker.py`), where a day's few files build in less time than the import takes. When dbt's
    worker was spawned at launch (`python -m orchestration run`: it has mostly imported dbt by now) and the drop
    lands in this process, the other core is idle during the landing: GE's worker starts now. Not beside the check
    workers, nor beside a dbt worker importing now (a run launched otherwise). The dbt step discards it if nothing
    is built."""
    # asked before `start`, which spawns dbt's worker when none is waiting: after it, one always is
    landing_alone = dbt_worker.waiting() and not workers_check(new_files)
    if new_files and dbt_worker.start():
        if landing_alone and validates:  # not for a run without great-expectations' checks (a few assets picked)
            quality_worker.start()
        return
    if workers_check(new_files):
        warm_up_in_background()


@dg.multi_asset(
    specs=[
        dg.AssetSpec(ARCHIVE, deps=[INBOX], description="Every received file, once, by content hash."),
        dg.AssetSpec(DOCUMENTS, deps=[ARCHIVE], description="One row per landed export file: loaded or quarantined."),
        dg.AssetSpec(
            ROW_FLAGS,
            deps=[ARCHIVE],
            description="One row per plausibility flag of a row that landed (README: Severity).",
        ),
        *(
            dg.AssetSpec(
                raw_table_key(kind),
                deps=[ARCHIVE],
                description=f"Rows of {spec.entry_stem} files that passed the `{kind}` pandera contract "
                "(plausibility flags in raw.row_flags).",
            )
            for kind, spec in STUDIO_FILE_KINDS.items()
        ),
        *live_asset_specs(ARCHIVE),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "no_structural_problems",
            asset=DOCUMENTS,
            description="No file of this run was quarantined for a structural problem (unreadable, wrong header, "
            "not a number or a date, a missing or repeated key, days not consecutive).",
        ),
        *(
            dg.AssetCheckSpec(
                "flagged_rows",
                asset=raw_table_key(kind),
                description="No row of this run landed with a plausibility flag (negative net daily count, shares "
                "not summing to 1, Total != New + Returning); flagged rows land and are listed in raw.row_flags.",
            )
            for kind in STUDIO_FILE_KINDS
        ),
        *live_check_specs(),
    ],
    group_name="landing",
)
def studio_exports(context: dg.AssetExecutionContext, data_dir: DataDirResource):
    """Archive new inbox files, validate them per kind in one batch, load the rows that pass."""
    paths = data_dir.paths
    with data_dir.warehouse() as con:
        if (started := unfinished_replay(con)) is not None:  # its raw tables hold part of the history
            context.log.warning(
                "the raw tables do not hold the whole archive (the warehouse was created at "
                f"{started:%Y-%m-%d %H:%M:%S} UTC beside an archive of received files, or a replay started then did "
                "not finish): replaying the whole archive before this landing"
            )
            replay_archives(paths, con)
        # the build window is recorded before any receipt is (land_inbox's on_loaded)
        record_window = partial(record_build_window, con)
        warm_up = partial(_warm_up_workers, validates=validates_published_marts(context))
        report = land_inbox(paths, con, sources=[LiveSource()], on_new=warm_up, on_loaded=record_window)
        places = issue_places(con, report.issues)  # `b/Overview.csv`, not one of many `Overview.csv`
        by_kind_and_rule = con.execute(
            """select d.file_kind, f.rule, count(*) from raw.row_flags f join raw.documents d using (document_id)
            group by 1, 2"""
        ).fetchall()
    flags_now: dict[str, int] = {}
    live_flags_now: dict[str, int] = {}
    for kind, rule, count in by_kind_and_rule:
        flags_now[kind] = flags_now.get(kind, 0) + count
        if (table := flag_table(kind, rule)) is not None:
            live_flags_now[table] = live_flags_now.get(table, 0) + count
    for level, line in describe_skipped(report.inbox):  # litter: one line with a count; each refusal
        getattr(context.log, level)(line)
    for path in report.archive_set_aside:
        context.log.warning(
            f"archive object {path} was cut short by a landing that stopped (a kill or a crash): set aside beside "
            "it as <object>.<token>.damaged, and its received file archived again"
        )
    for source in report.sources:
        for note in source.notes:  # a sidecar waiting for its log
            context.log.info(note)
    docs = report.documents
    quarantined = report.quarantined
    for issue, place in zip(report.issues, places, strict=True):
        where = f" row {issue.row}" if issue.row is not None else ""
        where += f" column {issue.column}" if issue.column else ""
        told = f"{where} {issue.rule}: {shown_name(issue.message)} (value {issue.value!r})"
        context.log.warning(f"quarantined {place}:{told}")
    for moved in report.moved:  # its rows left the other account's marts: say why
        context.log.warning(
            f"moved to another account's folder: {moved.told()}: counted for @{moved.moved_to_account} only now"
        )
    flags = report.flags
    flags = flags.assign(file_kind=_file_kinds_of(flags["document_id"], docs))
    for rule, count in flags["rule"].value_counts().sort_index().items():
        context.log.warning(f"{count} row(s) landed with plausibility flag {rule} (see raw.row_flags)")
    yield dg.MaterializeResult(
        asset_key=ARCHIVE,
        metadata={
            "files_seen_in_inbox": report.files_seen,
            # a replay that did not finish, replayed first: `make run`'s summary says its files were replayed (cli.py)
            "archive_replayed": started is not None,
            # every folder listed, every file stat'ed: a first landing, TIKTOK_FULL_SCAN, every TIKTOK_FULL_SCAN_DAYS
            "inbox_full_scan": report.full_scan,
            "files_newly_archived": report.files_new,
            "files_moved_to_another_account": len(report.moved),
            # seconds per landing step (scan + archive, read, validate, load): what `make bench` prints
            "landing_seconds": dg.MetadataValue.json({step: round(s, 3) for step, s in report.seconds.items()}),
        },
    )
    yield dg.MaterializeResult(
        asset_key=DOCUMENTS,
        metadata={
            "documents_read": len(docs),
            "documents_quarantined": len(quarantined),
            "rows_flagged": len(flags),
            "quarantine_folder": dg.MetadataValue.path(str(paths.quarantine)),
            "quarantined": dg.MetadataValue.md(_issues_table(report.issues, places)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=ROW_FLAGS,
        metadata={"flags_this_run": len(report.flags), "flags_in_total": sum(flags_now.values())},
    )
    yield dg.AssetCheckResult(
        asset_key=DOCUMENTS,
        check_name="no_structural_problems",
        passed=quarantined.empty,
        severity=dg.AssetCheckSeverity.WARN,  # the file waits in quarantine; the rest of the drop went through
        metadata={
            "files_quarantined": len(quarantined),
            "issues": dg.MetadataValue.md(_issues_table(report.issues, places)),
        },
    )
    for kind in STUDIO_FILE_KINDS:
        of_kind = docs[docs["file_kind"] == kind] if len(docs) else docs
        kind_flags = flags[flags["file_kind"] == kind]
        yield from raw_table_results(
            raw_table_key(kind),
            report.rows_by_kind.get(kind, 0),
            of_kind,
            kind_flags,
            flags_now.get(kind, 0),
            _flags_table(kind_flags),
        )
    yield from live_results(report, live_flags_now, _flags_table)


def replay_archives(paths, con):
    """Every raw table again from the archive alone: Studio and LIVE receipts from manifest.jsonl, then the API pulls
    from their archived responses, as `python -m orchestration replay` does (`cli.replay`), for a landing that finds a
    replay unfinished; returns both reports."""
    from orchestration.lib.api.replay import replay_api_archive

    with replay_under_way(con) as before_change:
        # asks for the full refresh (dbt_selection); marked before its first change, not while it checks the archive
        studio = replay_archive(paths, con, sources=[LiveSource()], before_change=before_change)
        api = replay_api_archive(paths, con)
    return studio, api


def record_build_window(con, report: LandingReport) -> None:
    """What the next dbt build recomputes for this landing: from its earliest new day, and each raw table it wrote
    from the earliest day its own new rows touch (`landed_min_dates`)."""
    record_pending_min_date(con, report.earliest_new_date)
    days = landed_min_dates(report)  # a day (or None) for every table the landing wrote
    record_changed_sources(con, days.keys(), days)


def landed_min_dates(report: LandingReport) -> dict[str, date | None]:
    """Each raw table this landing wrote and the earliest metric day of its rows: a Studio file kind's table, the
    first day of its loaded documents; any other (raw.documents, the LIVE tables, a kind only quarantined), the
    landing's earliest new day."""
    earliest = report.earliest_new_date
    days = dict.fromkeys(landed_tables(report), earliest)
    documents = report.documents
    if earliest is None or not len(documents):
        return days
    loaded = documents[documents["status"] == "loaded"]
    for kind, first in loaded.groupby("file_kind")["first_metric_date"].min().items():
        table = f"studio_{kind}"
        if kind in STUDIO_FILE_KINDS and table in days and not pd.isna(first):
            days[table] = first
    return days


def landed_tables(report) -> set[str]:
    """Raw tables (schema raw) this landing wrote: rows in, or the rows of a document landed again replaced.

    Every document landed (loaded or quarantined) is a row of raw.documents and may change raw.row_flags."""
    tables = {
        f"studio_{kind}" if kind in STUDIO_FILE_KINDS else kind for kind, rows in report.rows_by_kind.items() if rows
    }
    if len(report.documents):
        tables |= {"documents", "row_flags", "archive_manifest"}  # a new receipt may replace one at its path
        for kind in set(report.documents["file_kind"].dropna()):
            tables |= {f"studio_{kind}"} if kind in STUDIO_FILE_KINDS else live_tables_of_kind(kind)
    return tables


def _file_kinds_of(document_ids: pd.Series, documents: pd.DataFrame) -> pd.Series:
    """The file kind of each flagged row's document (None for a document not in `documents`). Looked up only for
    the flags, not by a dict of every document: a backfill lands ~190,000 and most flag nothing (0.2 s)."""
    if document_ids.empty or documents.empty:
        return pd.Series(None, index=document_ids.index, dtype="object")
    kinds = documents.drop_duplicates("document_id", keep="last").set_index("document_id")["file_kind"]
    return document_ids.map(kinds)


def _cell(value) -> str:
    return "" if value is None or pd.isna(value) else str(value).replace("|", "\\|")[:60]


def _issues_table(issues, places: list[str]) -> str:
    if not issues:
        return "No file was quarantined in this run."
    lines = ["| file | row | column | rule | value |", "|---|---|---|---|---|"]
    for issue, place in zip(issues[:TABLE_ROWS], places, strict=False):
        file = place.replace("|", "\\|")
        where = f"| {file} | {issue.row or ''} | {issue.column or ''}"
        lines.append(f"{where} | {issue.message} | {_cell(issue.value)} |")
    if len(issues) > TABLE_ROWS:
        lines.append(f"| … {len(issues) - TABLE_ROWS} more in the quarantine folder | | | | |")
    return "\n".join(lines)


def _flags_table(flags: pd.DataFrame) -> str:
    if flags.empty:
        return "No row of this run was flagged."
    lines = ["| file | row | column | rule | value | message |", "|---|---|---|---|---|---|"]
    for flag in flags.head(TABLE_ROWS).itertuples():
        lines.append(
            f"| {_cell(flag.file)} | {_cell(flag.source_row) or 'whole file'} | {_cell(flag.column_name)} | "
            f"{flag.rule} | {_cell(flag.value)} | {_cell(flag.message)} |"
        )
    if len(flags) > TABLE_ROWS:
        lines.append(f"| … {len(flags) - TABLE_ROWS} more: select * from raw.row_flags | | | | | |")
    return "\n".join(lines)
