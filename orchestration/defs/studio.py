"""Landing assets: the inbox, the immutable archive and one validated raw table per Studio file kind."""

import dagster as dg

from orchestration.defs.resources import DataDirResource
from orchestration.lib.core.warehouse import record_pending_min_date
from orchestration.lib.studio.landing import land_inbox
from schemas.studio_files import STUDIO_FILE_KINDS

INBOX = dg.AssetKey(["raw", "inbox"])
ARCHIVE = dg.AssetKey(["raw", "archive_manifest"])
DOCUMENTS = dg.AssetKey(["raw", "documents"])

inbox = dg.AssetSpec(
    INBOX,
    description="Files dropped by the user into <data>/raw/inbox/ exactly as TikTok delivered them. "
    "Read only: nothing in the inbox is ever modified or deleted.",
    group_name="landing",
)


def raw_table_key(kind: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", f"studio_{kind}"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(ARCHIVE, deps=[INBOX], description="Every received file, once, by content hash."),
        dg.AssetSpec(DOCUMENTS, deps=[ARCHIVE], description="One row per landed export file: loaded or quarantined."),
        *(
            dg.AssetSpec(
                raw_table_key(kind),
                deps=[ARCHIVE],
                description=f"Rows of {spec.entry_stem} files that passed the `{kind}` pandera contract.",
            )
            for kind, spec in STUDIO_FILE_KINDS.items()
        ),
    ],
    group_name="landing",
)
def studio_exports(context: dg.AssetExecutionContext, data_dir: DataDirResource):
    """Archive new inbox files, validate them per kind in one batch, load the rows that pass."""
    paths = data_dir.paths
    with data_dir.warehouse() as con:
        report = land_inbox(paths, con)
        record_pending_min_date(con, report.earliest_new_date)
    docs = report.documents
    quarantined = report.quarantined
    for issue in report.issues:
        where = f" row {issue.row}" if issue.row is not None else ""
        where += f" column {issue.column}" if issue.column else ""
        context.log.warning(f"quarantined {issue.file}:{where} {issue.rule}: {issue.message} (value {issue.value!r})")
    yield dg.MaterializeResult(
        asset_key=ARCHIVE,
        metadata={"files_seen_in_inbox": report.files_seen, "files_newly_archived": report.files_new},
    )
    yield dg.MaterializeResult(
        asset_key=DOCUMENTS,
        metadata={
            "documents_read": len(docs),
            "documents_quarantined": len(quarantined),
            "quarantine_folder": dg.MetadataValue.path(str(paths.quarantine)),
            "quarantined": dg.MetadataValue.md(_issues_table(report.issues)),
        },
    )
    for kind in STUDIO_FILE_KINDS:
        of_kind = docs[docs["file_kind"] == kind] if len(docs) else docs
        yield dg.MaterializeResult(
            asset_key=raw_table_key(kind),
            metadata={
                "rows_loaded": report.rows_by_kind.get(kind, 0),
                "files_loaded": int((of_kind["status"] == "loaded").sum()) if len(of_kind) else 0,
                "files_quarantined": int((of_kind["status"] == "quarantined").sum()) if len(of_kind) else 0,
            },
        )


def _issues_table(issues) -> str:
    if not issues:
        return "No file was quarantined in this run."
    lines = ["| file | row | column | rule | value |", "|---|---|---|---|---|"]
    for issue in issues[:200]:
        value = "" if issue.value is None else str(issue.value).replace("|", "\\|")[:60]
        lines.append(f"| {issue.file} | {issue.row or ''} | {issue.column or ''} | {issue.message} | {value} |")
    if len(issues) > 200:
        lines.append(f"| … {len(issues) - 200} more in the quarantine folder | | | | |")
    return "\n".join(lines)
