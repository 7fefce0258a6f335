"""What a run did, read back from the working DuckDB: new files per account, quarantine, flags.

"This run" is every document landed at or after the run's start (`raw.documents.landed_at`, UTC):
landing stamps each batch when it loads it. The CLI's summary starts earlier where a run ended without one
(stopped, failed, or run from the Dagster UI): at the end of the last summary (`summary_since`), and says so.
"Quarantined now" counts documents whose status is quarantined and whose receipt is still the latest at its inbox
path: dropping a corrected file at the same path supersedes the bad one, and a JSON report left in the quarantine
folder is not counted. Nor is one whose bytes loaded from another inbox path (a download saved in the wrong
account's folder, and in the right one).

LIVE files are documents of raw.documents like Studio exports (file kinds `live_log`, `live_backstage`,
`live_center_<kind>`), so they count the same way: per account (a Backstage export's account is its inbox
folder, `backstage` at the root), with the days they cover (a log's UTC days, a Backstage period, LIVE
Center days). A session sidecar is no document: it is never counted. A log landed again because its
sidecar arrived counts in the run that re-landed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from orchestration.lib.core.archive import document_bytes_sql, document_id_for
from orchestration.lib.core.inbox import shown_name
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.quarantine import file_reports, report_names
from orchestration.lib.studio.moved_files import MovedFile, moved_files, unreadable_move_lines

# LIVE Backstage creator data, the agency-wide file kind (live/routing.BACKSTAGE; stg_studio__documents.is_agency_wide)
AGENCY_WIDE_KIND = "live_backstage"


@dataclass(frozen=True)
class AccountFiles:
    account_handle: str
    files: int
    files_by_kind: dict[str, int]
    first_day: date | None
    last_day: date | None
    days: int  # distinct days the files cover (gaps between files are not counted)
    agency_wide: bool = False  # an inbox folder whose loaded files are all agency-wide (LIVE Backstage): no account


@dataclass(frozen=True)
class QuarantinedFile:
    file: str
    account_handle: str | None
    reason: str


@dataclass
class RunSummary:
    new_files: list[AccountFiles] = field(default_factory=list)
    quarantined_this_run: list[QuarantinedFile] = field(default_factory=list)
    flags_this_run: dict[str, int] = field(default_factory=dict)  # rule → flags
    flags_in_total: int = 0
    quarantined_now: int = 0
    files_received: int = 0  # inbox files received this run; a ZIP holds several export files
    # quarantined this run but no longer standing (`_quarantine_states`): replaced since by a corrected file at the
    # same inbox path (a replay reads old quarantines again), or the same bytes loaded from another inbox path (a
    # download saved in the wrong account's folder beside the right one): nothing was corrected then; or a ZIP
    # inside a ZIP whose bytes landed since as a file of their own (the outer ZIP unzipped as its reason says)
    corrected_since: int = 0
    loaded_elsewhere: int = 0
    unzipped_since: int = 0
    # files moved to another account's folder this run: they count for that account only now (`moved_files`)
    moved_this_run: list[MovedFile] = field(default_factory=list)
    # export files of new_files landed before this run began: by a run that ended without a summary (stopped, failed)
    landed_before_run: int = 0
    # whether anything counted (files, quarantines, flags) landed before this run began: "since the last summary"
    includes_earlier_runs: bool = False
    move_lines_unreadable: int = 0  # torn or garbled lines of moves.jsonl: their moves are not applied


def summarize_run(
    con: duckdb.DuckDBPyConnection,
    since: datetime | None,
    paths: DataPaths | None = None,
    run_started: datetime | None = None,
) -> RunSummary:
    """What landed from `since` on (naive UTC: the run's start, or earlier, `summary_since`); None: only the standing
    figures (totals, quarantine now). `paths`: where the archive's moves are (`moved_files`); without it, no move is
    told. `run_started`: this run's start, when `since` is earlier (files landed before it are counted apart)."""
    summary = RunSummary()
    summary.flags_in_total = con.execute("select count(*) from raw.row_flags").fetchone()[0]
    standing, ended = _quarantine_states(con)
    summary.quarantined_now = len(standing)
    summary.move_lines_unreadable = unreadable_move_lines(paths) if paths is not None else 0
    if since is None:
        return summary
    summary.new_files = _new_files(con, since)
    if run_started is not None and since < run_started:
        summary.landed_before_run = sum(a.files for a in _new_files(con, since, run_started))
        summary.includes_earlier_runs = con.execute(
            "select count(*) > 0 from raw.documents where landed_at >= ? and landed_at < ?", [since, run_started]
        ).fetchone()[0]
    summary.moved_this_run = moved_files(paths, con, since) if paths is not None else []
    summary.files_received = con.execute(
        "select count(*) from raw.archive_manifest where received_at >= ?", [since]
    ).fetchone()[0]
    rows = con.execute(
        """select document_id, archive_sha256, original_name, member_name, account_handle, quarantine_reason
        from raw.documents where status = 'quarantined' and landed_at >= ?
        order by original_name, member_name, document_id""",
        [since],
    ).fetchall()
    summary.corrected_since = sum(ended.get(row[0]) == CORRECTED for row in rows)
    summary.loaded_elsewhere = sum(ended.get(row[0]) == LOADED_ELSEWHERE for row in rows)
    summary.unzipped_since = sum(ended.get(row[0]) == UNZIPPED for row in rows)
    rows = [row for row in rows if row[0] not in ended]
    # named by their place in the inbox: in dated folders, many files share a name (`<handle>/<day>/Overview.csv`)
    places = _inbox_paths(con, sorted({row[1] for row in rows}))
    summary.quarantined_this_run = [
        QuarantinedFile(_display_name(places.get(_receipt(doc), original), original, member), handle, reason)
        for doc, _, original, member, handle, reason in rows
    ]
    summary.flags_this_run = dict(
        con.execute(
            "select rule, count(*) from raw.row_flags where landed_at >= ? group by rule order by rule", [since]
        ).fetchall()
    )
    return summary


def summary_since(con: duckdb.DuckDBPyConnection, run_started: datetime) -> datetime:
    """Where the summary of the run that started at `run_started` begins: where the last summary told ended. A run
    stopped (Ctrl-C) or failed after its landing told nothing, so its files count as new in the next summary; as do
    those a run of the Dagster UI or its schedule landed meanwhile. `run_started` where no summary told yet (a
    warehouse of documents from before `landing.run_summary_told`)."""
    (told,) = con.execute("select max(told_through) from landing.run_summary_told").fetchone()
    return run_started if told is None else min(told, run_started)


def mark_summary_told(con: duckdb.DuckDBPyConnection, through: datetime) -> None:
    """The summary told everything landed before `through` (a moment after the run's landing ended)."""
    con.execute("begin transaction")
    con.execute("delete from landing.run_summary_told")
    con.execute("insert into landing.run_summary_told values (?)", [through])
    con.execute("commit")


def _display_name(shown: str, original: str, member: str | None) -> str:
    return shown_name(shown if member in (None, "", original) else f"{shown} › {member}")


def issue_places(con: duckdb.DuckDBPyConnection, issues: list) -> list[str]:
    """Each issue's file by its place in the inbox (`b/Overview.csv`, `Overview_x.zip › Overview.csv`), as the
    summary names it: a drop of many accounts holds many files of one name. Its own name where no receipt says."""
    places = _inbox_paths(con, sorted({issue.document_id[:64] for issue in issues}))
    shown = []
    for issue in issues:
        member = issue.file.split(" › ", 1)[1] if " › " in issue.file else None
        place = places.get(_receipt(issue.document_id))
        shown.append(_display_name(place, "", member) if place else shown_name(issue.file))
    return shown


def _receipt(document_id: str) -> str:
    """A document id starts with its receipt's: `<sha>:<path tag>:` (`document_id_for(sha, path, "")`)."""
    return ":".join(document_id.split(":", 2)[:2]) + ":"


def _inbox_paths(con: duckdb.DuckDBPyConnection, shas: list[str]) -> dict[str, str]:
    """Receipt id → its inbox path, for the receipts of these bytes (raw.archive_manifest)."""
    if not shas:
        return {}
    found = con.execute(
        "select distinct sha256, inbox_path from raw.archive_manifest where list_contains(?, sha256)", [shas]
    ).fetchall()
    return {document_id_for(sha, path, ""): path for sha, path in found}


def _new_files(con: duckdb.DuckDBPyConnection, since: datetime, until: datetime | None = None) -> list[AccountFiles]:
    """Export files loaded from `since` (before `until`), per account."""
    loaded = """select * from raw.documents where status = 'loaded' and landed_at >= $since
        and ($until::timestamp is null or landed_at < $until::timestamp)"""
    # an export downloaded twice (`Overview (1).zip`: the same bytes, the same export day) is one export file
    kinds = con.execute(
        f"""select account_handle, file_kind,
            count(distinct ({document_bytes_sql("document_id")}, export_date))
        from ({loaded}) group by all order by all""",
        {"since": since, "until": until},
    ).fetchall()
    spans = con.execute(
        f"""with days as (
            select distinct account_handle, unnest(generate_series(first_metric_date, last_metric_date,
                                                                   interval 1 day)) as day
            from ({loaded}) where first_metric_date is not null)
        select account_handle, min(day)::date, max(day)::date, count(*) from days group by 1""",
        {"since": since, "until": until},
    ).fetchall()
    by_account: dict[str, dict[str, int]] = {}
    for handle, kind, count in kinds:
        by_account.setdefault(handle, {})[kind] = count
    covered = {handle: (first, last, days) for handle, first, last, days in spans}
    # every file it ever loaded, not only this run's: an account's own Backstage download is still an account's
    folders = {
        handle
        for (handle,) in con.execute(
            "select account_handle from raw.documents where status = 'loaded' and list_contains(?, account_handle) "
            "group by 1 having bool_and(file_kind = ?)",
            [sorted(by_account), AGENCY_WIDE_KIND],
        ).fetchall()
    }
    return [
        AccountFiles(handle, sum(counts.values()), counts, *covered.get(handle, (None, None, 0)), handle in folders)
        for handle, counts in sorted(by_account.items())
    ]


def quarantined_now(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Ids of the quarantined documents still standing: neither replaced at their inbox path nor loaded elsewhere,
    nor a ZIP inside a ZIP whose bytes landed as a file of their own."""
    return _quarantine_states(con)[0]


def file_quarantine_reports(paths: DataPaths, con: duckdb.DuckDBPyConnection) -> int:
    """After a landing: the quarantine folder holds the reports of the files quarantined now, the others are filed
    under `resolved/` (`quarantine.file_reports`), so that what a user sees there is what the summary counts."""
    standing = set(quarantined_now(con))
    rows = con.execute(
        "select document_id, archive_sha256, original_name, member_name from raw.documents where status = 'quarantined'"
    ).fetchall()
    return file_reports(paths, {name for row in rows if row[0] in standing for name in report_names(paths, *row)})


# why a quarantined document no longer counts (`_quarantine_states`)
CORRECTED, LOADED_ELSEWHERE, UNZIPPED = "corrected", "loaded_elsewhere", "unzipped"


def _quarantine_states(con: duckdb.DuckDBPyConnection) -> tuple[list[str], dict[str, str]]:
    """The ids of the quarantined documents still standing, and why the others ended: CORRECTED (a later receipt of
    other bytes at its inbox path) before LOADED_ELSEWHERE (its bytes loaded from another inbox path) before UNZIPPED
    (a ZIP inside a ZIP whose bytes, `inner_zip_sha256`, landed as a received file of their own: the outer ZIP was
    unzipped and its ZIPs dropped, as its reason says; the inner ZIP's own documents count from then on)."""
    quarantined = con.execute(
        "select document_id, archive_sha256, inner_zip_sha256 from raw.documents where status = 'quarantined'"
    ).fetchall()
    if not quarantined:
        return [], {}
    receipts = con.execute(
        """select sha256, inbox_path, received_at,
               max(received_at) over (partition by inbox_path) as latest_at_path,
               count(distinct sha256) over (partition by inbox_path) as versions_at_path
        from raw.archive_manifest
        where inbox_path in (select inbox_path from raw.archive_manifest
                             where sha256 in (select archive_sha256 from raw.documents where status = 'quarantined'))"""
    ).fetchall()
    superseded = {
        document_id_for(sha, path, "")
        for sha, path, received_at, latest, versions in receipts
        if versions > 1 and received_at < latest
    }
    # the same bytes loaded from another inbox path: the file was moved where it belongs (stg_studio__documents too)
    loaded = {
        _bytes_of(doc)
        for (doc,) in con.execute(
            "select document_id from raw.documents where status = 'loaded' and list_contains(?, archive_sha256)",
            [sorted({sha for _, sha, _ in quarantined})],
        ).fetchall()
    }
    inner = sorted({zip_sha for _, _, zip_sha in quarantined if zip_sha is not None})
    # a ZIP inside a ZIP whose bytes landed as a received file of their own (stg_studio__documents too)
    sql = "select distinct archive_sha256 from raw.documents where list_contains(?, archive_sha256)"
    landed_bare = {sha for (sha,) in con.execute(sql, [inner]).fetchall()} if inner else set()
    # A document id starts with its receipt (`<sha>:<path tag>:<member>`); one no receipt matches stays counted.
    ended = {doc: CORRECTED for doc, _, _ in quarantined if _receipt(doc) in superseded}
    ended |= {doc: LOADED_ELSEWHERE for doc, _, _ in quarantined if doc not in ended and _bytes_of(doc) in loaded}
    ended |= {doc: UNZIPPED for doc, _, zip_sha in quarantined if doc not in ended and zip_sha in landed_bare}
    return [doc for doc, _, _ in quarantined if doc not in ended], ended


def _bytes_of(document_id: str) -> str:
    """`<sha>:<member>`: the bytes a document holds, wherever they were received (its id without the path tag)."""
    sha, _, member = document_id.split(":", 2)
    return f"{sha}:{member}"
