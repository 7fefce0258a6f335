"""The pandera contracts applied to a batch, by severity (schemas/studio_contracts.py decides which is which).

Structural failures become issues of their documents (which are then quarantined whole); plausibility
rules only flag rows of documents that land, for `raw.row_flags`.
"""

from __future__ import annotations

import pandas as pd

from orchestration.lib.core.dbt_vars import HANDLE_ALIASES_VAR
from orchestration.lib.studio.provenance import LINK_HANDLE
from orchestration.lib.studio.reader import Document
from schemas.studio_contracts import CHECK_FOCUS, FLAG_SEVERITY, describe_failure, find_plausibility_flags

ROW_FLAG_COLUMNS = ["document_id", "file", "source_row", "column_name", "rule", "value", "severity", "message"]


def record_contract_failures(
    kind: str, frame: pd.DataFrame, failures: pd.DataFrame, by_id: dict[str, Document]
) -> None:
    """Attach contract (structural) failures to their documents: one issue per (row, rule). A cell the reader
    could not read (a date in no known shape) is already an issue, and null in the frame: the contract's verdict on
    that cell (`not_nullable`) would only repeat it."""
    if failures.empty:
        return
    failures = failures[failures["index"].notna()]
    read_already = {(i.document_id, i.row, i.column) for doc in by_id.values() for i in doc.issues if i.row}
    for (index, check), group in failures.groupby(["index", "check"], sort=True):
        focus = CHECK_FOCUS.get(str(check))
        hit = group[group["column"] == focus] if focus else group
        row = (hit if len(hit) else group).iloc[0]
        record = frame.loc[int(index)]
        column = None if pd.isna(row["column"]) else str(row["column"])
        if (record["document_id"], int(record["source_row"]), column) in read_already:
            continue
        by_id[record["document_id"]].fail(
            str(check),
            describe_failure(str(check), kind),
            row=int(record["source_row"]),
            column=column,
            value=None if pd.isna(row["failure_case"]) else str(row["failure_case"]),
        )


def record_links_of_another_account(frame: pd.DataFrame, by_id: dict[str, Document], aliases: dict[str, str]) -> None:
    """A Content file whose video links name other @handles but never the account it was filed under (its folder or
    ZIP name): an issue on its first row naming one. Landed, its videos would be another creator's in this account's
    marts (a download saved in the wrong folder); TikTok writes the account's own handle into every link. `aliases`
    (former → current handle): a creator who changed handle, whose links may name either in either's folder."""
    if frame.empty:
        return
    links = frame["video_link"].astype("string")
    handles = links.str.lower().str.extract(LINK_HANDLE.pattern, expand=False)
    filed_under = frame["document_id"].map({d: doc.account_handle for d, doc in by_id.items()})
    named = pd.DataFrame(
        {"document_id": frame["document_id"], "row": frame["source_row"], "handle": handles, "filed_under": filed_under}
    ).dropna(subset=["handle", "filed_under"])  # no account at all: the reader's account_handle issue says so
    linked, filed = named["handle"], named["filed_under"]
    if aliases:
        linked, filed = linked.replace(aliases), filed.replace(aliases)
    # per document, at once (a batch holds ~100k Content rows): whether any link names its own account
    owned = (linked == filed).groupby(named["document_id"], sort=True).any()
    for document_id in owned.index[~owned.to_numpy(dtype=bool)]:
        doc, rows = by_id[document_id], named[named["document_id"] == document_id]
        first = rows.loc[rows["row"].idxmin()]
        others = ", ".join(f"@{h}" for h in sorted(rows["handle"].unique()))
        where = (
            f"rename the ZIP Content_{first['handle']}.zip"
            if doc.handle_from == "zip_name"
            else f"move it to inbox/{first['handle']}/"
        )
        doc.fail(
            "links_name_the_account",
            f"the video links name {others}, never @{doc.account_handle}, the account it was filed under (its "
            f"{'ZIP name' if doc.handle_from == 'zip_name' else 'folder'}): {where} (if the account changed its "
            f"handle, map the former one to the current one in the dbt var {HANDLE_ALIASES_VAR}, then replay)",
            row=int(first["row"]),
            column="video_link",
            value=str(links.loc[first.name]),
        )


def flag_rows(kind: str, landing: pd.DataFrame, by_id: dict[str, Document]) -> pd.DataFrame:
    """Plausibility flags of the rows that land (documents without issues), named by file as the user knows it."""
    flags = find_plausibility_flags(kind, landing)
    flags["file"] = [by_id[document_id].display_name for document_id in flags["document_id"]]
    flags["severity"] = FLAG_SEVERITY
    return flags[ROW_FLAG_COLUMNS]


def empty_flags() -> pd.DataFrame:
    return pd.DataFrame(columns=ROW_FLAG_COLUMNS)
