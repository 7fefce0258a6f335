"""The raw LIVE tables as landing assets: landed in the same batch as the Studio exports (one scan of the inbox).

`defs/studio.py`'s multi-asset lands every receipt (the LIVE ones through `lib/live/landing.LiveSource`) and
yields, for each raw LIVE table, its rows and files this run and a `flagged_rows` check (WARN), as for the
Studio tables; quarantined LIVE files are in `no_structural_problems` on raw/documents with the others.
"""

from collections.abc import Callable, Iterator

import dagster as dg
import pandas as pd

from orchestration.defs.raw_tables import raw_table_results
from orchestration.lib.core.warehouse import LIVE_RAW_TABLE_COLUMNS

LIVE_TABLES = tuple(LIVE_RAW_TABLE_COLUMNS)

_DESCRIPTIONS = {
    "live_events": "One row per line of each LIVE event log (inbox/<handle>/live/*.jsonl[.gz]), replays included.",
    "live_sessions": "One row per recorded LIVE session: from its .session.json sidecar, else derived from the log.",
    "live_connections": "One row per websocket connection of a recorded LIVE session.",
    "live_backstage_creators": "One row per creator per LIVE Backstage 'Creator data' download (XLSX/CSV).",
}


def live_table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def live_asset_specs(archive: dg.AssetKey) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            live_table_key(table),
            deps=[archive],
            description=_DESCRIPTIONS.get(table, f"One row per day per LIVE Center {table.split('_')[-1]} daily file.")
            + f" Rows that passed the `{table}` pandera contract (plausibility flags in raw.row_flags).",
        )
        for table in LIVE_TABLES
    ]


def live_check_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "flagged_rows",
            asset=live_table_key(table),
            description="No row of this run landed with a plausibility flag (a like event past 15 hearts, an unknown "
            "record type, a msg_id replayed with other content, ...); flagged rows land, listed in raw.row_flags.",
        )
        for table in LIVE_TABLES
    ]


def live_results(report, flags_in_total: dict[str, int], flags_table: Callable[[pd.DataFrame], str]) -> Iterator:
    """Materializations and `flagged_rows` checks of the raw LIVE tables for one landing report."""
    documents = report.documents
    flags = pd.concat([s.flags for s in report.sources if s.flags is not None and len(s.flags)] or [pd.DataFrame()])
    for table in LIVE_TABLES:
        table_flags = flags[flags["table"] == table] if len(flags) else flags
        kinds = _file_kinds(table)
        of_table = documents[documents["file_kind"].isin(kinds)] if len(documents) else documents
        yield from raw_table_results(
            live_table_key(table),
            report.rows_by_kind.get(table, 0),
            of_table,
            table_flags,
            flags_in_total.get(table, 0),
            flags_table(table_flags),
        )


def live_tables_of_kind(file_kind: str) -> set[str]:
    """The raw LIVE tables a document of this raw.documents file kind writes (none for another kind)."""
    return {table for table in LIVE_TABLES if file_kind in _file_kinds(table)}


def _file_kinds(table: str) -> set[str]:
    """raw.documents file kinds whose rows go to `table` (a log fills three tables)."""
    if table in ("live_events", "live_sessions", "live_connections"):
        return {"live_log"}
    if table == "live_backstage_creators":
        return {"live_backstage"}
    return {table}  # live_center_<kind>
