"""LIVE inputs land like every other source: routed from the inbox, archived, checked, loaded or quarantined
with the reason, idempotent, replayable from the archive alone.

The drop (every count below is worked out from these files):
- `alice/live/alice_live.jsonl` + its sidecar: the 10-line STREAM of test_live_readers (session s1, room
  ...001, one connection, 2026-06-21 00:00:00-00:00:21 UTC), sidecar ended_at 00:00:21;
- `bob/live/bob_live.jsonl.gz`, no sidecar: the 9-line reconnect log of session s2 (two connections,
  session_start handle bob, last record at 00:00:10);
- `alice/live/broken.jsonl`: two good lines, then `{not json}` on line 3: quarantined, the reason names line 3;
- `agency/Creator data 2026_07_08 09_00 UTC+0.xlsx`: 2 creators (one quit), period 2026-07-01 ~ 07-07;
- `Creator_data_2026_09_16_08_37_UTC0.csv` at the inbox root: 2 creators, period 2026-09-01 ~ 09-15;
- `carol/LIVE viewers.csv` (Japanese headers, 3 days 06-21..06-23, unique viewers > views on row 2: one
  flag) and `carol/2026-06-24/engagement.xlsx` (English headers, 2 days 06-22..06-23);
- `alice/Viewers.csv`: a Studio file (2 days), landed by the Studio reader in the same batch.
"""

import gzip
import json
import os
import shutil
from datetime import datetime

import dagster as dg
import pandas as pd
import pytest

from orchestration.cli import main as cli_main
from orchestration.cli import replay as cli_replay
from orchestration.lib.core.archive import document_id_for
from orchestration.lib.core.receipts import Received
from orchestration.lib.core.warehouse import LIVE_RAW_TABLE_COLUMNS, connect
from orchestration.lib.live import routing
from orchestration.lib.live.landing import LiveSource
from orchestration.lib.studio.landing import land_inbox, replay_archive
from tests.live.test_live_readers import ROOM, STREAM, T0, jsonl, record, sidecar
from tests.live.test_live_sheet_readers import BACKSTAGE_XLSX, csv_bytes, xlsx
from tests.studio_fixtures import drop, new_paths, query, studio_csv

ALICE_LOG = "alice/live/alice_live.jsonl"
ALICE_SIDECAR = "alice/live/alice_live.session.json"
BOB_LOG = "bob/live/bob_live.jsonl.gz"
BROKEN_LOG = "alice/live/broken.jsonl"
BACKSTAGE_XLSX_PATH = "agency/Creator data 2026_07_08 09_00 UTC+0.xlsx"
BACKSTAGE_CSV_PATH = "Creator_data_2026_09_16_08_37_UTC0.csv"
CENTER_JA = "carol/LIVE viewers.csv"
CENTER_EN = "carol/2026-06-24/engagement.xlsx"
STUDIO = "alice/Viewers.csv"
ROOM_B = "7380000000000000002"


def _bob(line: dict) -> dict:
    return {**line, "session_id": "s2", "room_id": ROOM_B}


BOB = [
    _bob(record(1, "session_start", handle="bob", recorder="r/1")),
    _bob(record(2, "connect")),
    _bob(record(3, "comment", at=5, msg="m1", user="6800000000000000002")),
    _bob(record(4, "like", at=6, msg="m2", user="6800000000000000003", like_count=5, total_likes=5)),
    _bob(record(5, "disconnect", at=7, reason="connection_closed")),
    _bob(record(6, "connect", conn="c2", at=9)),
    _bob({**record(7, "comment", conn="c2", at=9, msg="m1", user="6800000000000000002"), "timestamp_ms": T0 + 4700}),
    _bob(record(8, "like", conn="c2", at=9, msg="m2", user="6800000000000000003", like_count=5, total_likes=5))
    | {"timestamp_ms": T0 + 5700},
    _bob(record(9, "follow", conn="c2", at=10, msg="m3", user="6800000000000000004")),
]
CENTER_JA_LINES = [
    "日付,視聴数,ユニーク視聴者数,平均視聴時間,最高同時視聴者数,平均同時視聴者数",
    '2026/06/21,"1,200",800,35.5,90,40.2',
    "2026/06/22,100,120,10,5,4",  # 120 unique viewers of 100 views: flagged, kept
    "2026/06/23,300,200,12,30,11.5",
]
CENTER_EN_ROWS = [
    ["Date", "Gifters", "New followers", "Viewers who commented", "Likes", "Shares"],
    ["2026-06-22", 3, 10, 25, "1,500", 4],
    ["2026-06-23", 1, 2, 5, 300, 0],
]
BACKSTAGE_CSV = [
    "Data period,Creator ID,Creator's username,Diamonds in selected period,LIVE duration,Fan contribution %",
    '2026-09-01 ~ 2026-09-15,7000000000000000001,alice,"1,234,567",119h 47m 31s,90.13%',
    "2026-09-01 ~ 2026-09-15,The creator has quit the network,bob,12,88.46h,0.94618",
]
VIEWERS = ("Date", "Total Viewers", "New Viewers", "Returning Viewers")


def _drop_everything(paths):
    drop(paths, ALICE_LOG, jsonl(*STREAM))
    drop(paths, ALICE_SIDECAR, sidecar())
    drop(paths, BOB_LOG, gzip.compress(jsonl(*BOB)))
    drop(paths, BROKEN_LOG, jsonl(*STREAM[:2]) + b"{not json}\n" + jsonl(*STREAM[2:4]))
    drop(paths, BACKSTAGE_XLSX_PATH, xlsx(BACKSTAGE_XLSX))
    drop(paths, BACKSTAGE_CSV_PATH, csv_bytes(BACKSTAGE_CSV))
    drop(paths, CENTER_JA, csv_bytes(CENTER_JA_LINES), datetime(2026, 6, 24, 12, 0))
    drop(paths, CENTER_EN, xlsx(CENTER_EN_ROWS))
    viewers = [["June 21", "30", "20", "10"], ["June 22", "12", "7", "5"]]
    drop(paths, STUDIO, studio_csv(VIEWERS, viewers), datetime(2026, 6, 23, 12, 0))


def _land(paths):
    with connect(paths.warehouse) as con:
        return land_inbox(paths, con, sources=[LiveSource()])


def _counts(paths) -> dict[str, int]:
    tables = [*LIVE_RAW_TABLE_COLUMNS, "studio_viewers", "documents", "row_flags", "archive_manifest"]
    return {t: query(paths, f"select count(*) from raw.{t}")[0][0] for t in tables}


def _raw(paths) -> dict[str, list[tuple]]:
    """Every raw table a replay rebuilds, in a fixed order, without landing times."""
    tables = {t: "*" for t in LIVE_RAW_TABLE_COLUMNS} | {"studio_viewers": "*", "archive_manifest": "*"}
    tables |= {"documents": "* exclude (landed_at)", "row_flags": "* exclude (landed_at)"}
    return {t: query(paths, f"select {cols} from raw.{t} order by all") for t, cols in tables.items()}


def test_a_drop_of_every_live_input_lands_beside_studio_with_the_bad_log_quarantined(tmp_path):
    paths = new_paths(tmp_path)
    _drop_everything(paths)
    report = _land(paths)

    assert report.files_new == 9  # 8 documents + the sidecar, which travels with its log
    assert _counts(paths) == {
        "live_events": 19,  # 10 (alice) + 9 (bob); the broken log loads nothing
        "live_sessions": 2,
        "live_connections": 3,  # alice 1 (sidecar), bob 2 (a reconnect)
        "live_backstage_creators": 4,  # 2 + 2
        "live_center_viewers": 3,
        "live_center_engagement": 2,
        "live_center_revenue": 0,
        "live_center_activity": 0,
        "studio_viewers": 2,
        "documents": 8,
        "row_flags": 1,
        "archive_manifest": 9,
    }
    documents = query(
        paths,
        """select original_name, account_handle, file_kind, status, row_count, export_date::varchar,
                  export_date_source, exported_at::varchar, first_metric_date::varchar, last_metric_date::varchar
        from raw.documents order by original_name""",
    )
    assert documents == [
        ("Creator data 2026_07_08 09_00 UTC+0.xlsx", "agency", "live_backstage", "loaded", 2, "2026-07-08",
         "backstage_file_name", "2026-07-08 09:00:00", "2026-07-01", "2026-07-07"),
        ("Creator_data_2026_09_16_08_37_UTC0.csv", "backstage", "live_backstage", "loaded", 2, "2026-09-16",
         "backstage_file_name", "2026-09-16 08:37:00", "2026-09-01", "2026-09-15"),
        ("LIVE viewers.csv", "carol", "live_center_viewers", "loaded", 3, "2026-06-24", "file_mtime",
         "2026-06-24 12:00:00", "2026-06-21", "2026-06-23"),
        ("Viewers.csv", "alice", "viewers", "loaded", 2, "2026-06-23", "file_mtime", "2026-06-23 12:00:00",
         "2026-06-21", "2026-06-22"),
        ("alice_live.jsonl", "alice", "live_log", "loaded", 10, "2026-06-21", "log_end", "2026-06-21 00:00:21",
         "2026-06-21", "2026-06-21"),
        ("bob_live.jsonl.gz", "bob", "live_log", "loaded", 9, "2026-06-21", "log_end", "2026-06-21 00:00:10",
         "2026-06-21", "2026-06-21"),
        ("broken.jsonl", "alice", "live_log", "quarantined", 0, None, None, None, None, None),
        # saved today, long after its folder's day: its time held to the day's last moment (receipt_moments.py)
        ("engagement.xlsx", "carol", "live_center_engagement", "loaded", 2, "2026-06-24", "inbox_folder_date",
         "2026-06-24 23:59:59.999999", "2026-06-22", "2026-06-23"),
    ]  # fmt: skip
    (reason,) = query(paths, "select quarantine_reason from raw.documents where status = 'quarantined'")[0]
    assert reason.startswith("json at row 3: line 3: not valid JSON (")
    report_file = json.loads(next(paths.quarantine.glob("*broken.jsonl.json")).read_text())
    assert [(i["rule"], i["row"]) for i in report_file["issues"]] == [("json", 3)]
    assert report_file["account_handle"] == "alice" and report_file["file_kind"] == "live_log"
    assert [(i.rule, i.row, i.file) for i in report.issues] == [("json", 3, "broken.jsonl")]

    assert query(paths, "select file, source_row, column_name, rule, value, severity from raw.row_flags") == [
        ("LIVE viewers.csv", 2, "unique_viewers", "unique_viewers_at_most_views", "120", "warn")
    ]
    # the manifest says who read each receipt; the sidecar is recorded, never a document
    assert query(paths, "select inbox_path, file_kind, account_handle from raw.archive_manifest order by 1") == [
        (BACKSTAGE_CSV_PATH, "live_backstage", "backstage"),
        (BACKSTAGE_XLSX_PATH, "live_backstage", "agency"),
        (STUDIO, "viewers", "alice"),
        (ALICE_LOG, "live_log", "alice"),
        (ALICE_SIDECAR, "live_session", "alice"),
        (BROKEN_LOG, "live_log", "alice"),  # from its document: the folder
        (BOB_LOG, "live_log", "bob"),
        (CENTER_EN, "live_center", "carol"),
        (CENTER_JA, "live_center", "carol"),
    ]
    sessions = query(
        paths,
        """select account_handle, session_id, room_id, session_source, connection_count, reconnects,
                  started_at::varchar, ended_at::varchar
        from raw.live_sessions order by session_id""",
    )
    assert sessions == [
        ("alice", "s1", ROOM, "sidecar", 1, 0, "2026-06-21 00:00:00", "2026-06-21 00:00:21"),
        ("bob", "s2", ROOM_B, "log", 2, 1, "2026-06-21 00:00:00", "2026-06-21 00:00:10"),
    ]
    creators = query(
        paths,
        """select account_handle, creator_username, creator_id, has_quit, diamonds from raw.live_backstage_creators
        order by period_start, source_row""",
    )
    assert creators == [
        ("agency", "alice", "7000000000000000001", False, 1_234_567),
        ("agency", "bob", None, True, 5_000),
        ("backstage", "alice", "7000000000000000001", False, 1_234_567),
        ("backstage", "bob", None, True, 12),
    ]
    assert query(
        paths, "select metric_date::varchar, views, unique_viewers from raw.live_center_viewers order by 1"
    ) == [
        ("2026-06-21", 1200, 800),
        ("2026-06-22", 100, 120),
        ("2026-06-23", 300, 200),
    ]
    assert query(paths, "select metric_date::varchar, likes from raw.live_center_engagement order by 1") == [
        ("2026-06-22", 1500),
        ("2026-06-23", 300),
    ]
    # min_date: the logs' first UTC day (06-21) less one (a LIVE's day is its start in the account's zone)
    assert report.earliest_new_date == pd.Timestamp("2026-06-20")
    assert report.rows_by_kind == {
        "viewers": 2,
        "live_events": 19,
        "live_sessions": 2,
        "live_connections": 3,
        "live_backstage_creators": 4,
        "live_center_viewers": 3,
        "live_center_engagement": 2,
    }


def test_a_redrop_changes_nothing_and_replay_rebuilds_the_same_raw_tables(tmp_path, capsys):
    paths = new_paths(tmp_path)
    _drop_everything(paths)
    _land(paths)
    before, manifest = _raw(paths), paths.manifest.read_bytes()

    for path in paths.inbox.rglob("*"):  # the same files again, touched (new mtimes)
        if path.is_file():
            os.utime(path, (1_900_000_000, 1_900_000_000))
    again = _land(paths)
    assert (again.files_new, len(again.documents)) == (0, 0)
    assert _raw(paths) == before
    assert paths.manifest.read_bytes() == manifest

    shutil.rmtree(paths.warehouse.parent)
    capsys.readouterr()
    cli_replay(paths)  # what `python -m orchestration replay` does before its full refresh
    assert capsys.readouterr().out.splitlines()[0] == (
        "Replayed 1 Studio receipts and 8 LIVE receipts (1 documents quarantined)."
    )
    assert _raw(paths) == before
    assert paths.manifest.read_bytes() == manifest, "replay never rewrites the manifest"


def test_a_sidecar_arriving_after_its_log_relands_the_log_and_replay_agrees(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, ALICE_LOG, jsonl(*STREAM))
    first = _land(paths)
    document = document_id_for(first.documents["archive_sha256"].iloc[0], ALICE_LOG, "")
    assert query(paths, "select document_id, session_source from raw.live_sessions") == [(document, "log")]

    drop(paths, ALICE_SIDECAR, sidecar(ended_at_ms=T0 + 30_000))
    second = _land(paths)
    assert second.files_new == 1 and second.documents["document_id"].tolist() == [document]
    assert query(paths, "select document_id, session_source, ended_at::varchar from raw.live_sessions") == [
        (document, "sidecar", "2026-06-21 00:00:30")
    ]
    assert query(paths, "select count(*), count(distinct document_id) from raw.live_events") == [(10, 1)]
    assert query(paths, "select exported_at::varchar from raw.documents") == [("2026-06-21 00:00:30",)]
    landed = _raw(paths)

    shutil.rmtree(paths.warehouse.parent)
    with connect(paths.ensure().warehouse) as con:
        replay_archive(paths, con, sources=[LiveSource()])
    assert _raw(paths) == landed


def test_a_log_withdrawn_by_a_later_sidecar_recomputes_the_marts_from_its_day(tmp_path):
    """A damaged sidecar dropped after its log quarantines the pair: the log's rows leave the raw tables, and the
    incremental LIVE marts must recompute the LIVEs it held. Nothing new landed, so the build window comes from the
    withdrawn log: the day before its first day (a LIVE's day can be the UTC day before)."""
    paths = new_paths(tmp_path)
    drop(paths, ALICE_LOG, jsonl(*STREAM))
    assert _land(paths).earliest_new_date == pd.Timestamp("2026-06-20")
    drop(paths, ALICE_SIDECAR, b'{"session_id": "s1", "star')
    withdrawn = _land(paths)
    assert [issue.rule for issue in withdrawn.issues] == ["sidecar_json"]
    assert query(paths, "select count(*) from raw.live_events") == [(0,)]
    assert withdrawn.earliest_new_date == pd.Timestamp("2026-06-20")
    (report,) = paths.quarantine.glob("*.json")  # the log's, named for it
    assert report.name.endswith("_alice_live.jsonl.json")

    # a corrected sidecar at the same path lands the log again, loaded: its report is filed away (it stayed beside
    # the current ones, though nothing else was quarantined: review)
    drop(paths, ALICE_SIDECAR, sidecar(ended_at_ms=T0 + 30_000), datetime(2026, 6, 22, 12))
    _land(paths)
    assert query(paths, "select status from raw.documents") == [("loaded",)]
    assert list(paths.quarantine.glob("*.json")) == []
    assert [p.name for p in (paths.quarantine / "resolved").iterdir()] == [report.name]


def test_a_withdrawn_later_recording_moves_the_window_to_its_lives_first_recording(tmp_path):
    """The same LIVE recorded on 21 June and, by a recorder whose clock was off, on 23 June: withdrawing the later log
    makes the LIVE end on 21 June again, so the window must reach back there, not to the withdrawn log's own day
    (review: a LIVE then kept the withdrawn recording's gifts and minutes)."""
    paths = new_paths(tmp_path)
    drop(paths, ALICE_LOG, jsonl(*STREAM))
    _land(paths)
    two_days_ms = 2 * 86_400_000
    later = [
        {**r, "session_id": "s2", "received_at_ms": r["received_at_ms"] + two_days_ms,
         "timestamp_ms": None if r["timestamp_ms"] is None else r["timestamp_ms"] + two_days_ms}
        for r in STREAM
    ]  # fmt: skip
    drop(paths, "alice/live/later.jsonl", jsonl(*later))
    assert _land(paths).earliest_new_date == pd.Timestamp("2026-06-22")  # its own day, less one
    drop(paths, "alice/live/later.session.json", b'{"session_id": "s2", "sta')
    withdrawn = _land(paths)
    assert [issue.rule for issue in withdrawn.issues] == ["sidecar_json"]
    assert withdrawn.earliest_new_date == pd.Timestamp("2026-06-20")  # the LIVE's first recording, less one


def test_a_sidecar_without_its_log_waits_and_is_never_quarantined(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, ALICE_SIDECAR, sidecar())
    report = _land(paths)
    assert report.files_new == 1 and report.documents.empty and report.issues == []
    assert [n for s in report.sources for n in s.notes] == [
        f"{ALICE_SIDECAR}: a session sidecar waiting for its log ({ALICE_LOG})"
    ]
    assert query(paths, "select file_kind, account_handle from raw.archive_manifest") == [("live_session", "alice")]
    assert list(paths.quarantine.iterdir()) == []

    drop(paths, ALICE_LOG, jsonl(*STREAM))  # the log comes: it is read with the sidecar already archived
    _land(paths)
    assert query(paths, "select session_source from raw.live_sessions") == [("sidecar",)]


def test_the_same_log_received_at_two_paths_is_two_receipts_of_identical_rows(tmp_path):
    """Raw keeps both receipts (as for Studio files); staging keeps one event per msg_id (per session line for
    the recorder's own records), so the marts count the LIVE once: that is stg_live__events' job."""
    paths = new_paths(tmp_path)
    drop(paths, ALICE_LOG, jsonl(*STREAM))
    drop(paths, ALICE_SIDECAR, sidecar())
    drop(paths, "alice/live/backup/alice_live.jsonl", jsonl(*STREAM))
    drop(paths, "alice/live/backup/alice_live.session.json", sidecar())
    _land(paths)
    assert query(paths, "select count(*), count(distinct archive_sha256) from raw.documents") == [(2, 1)]
    per_document = query(
        paths,
        """select list(row(source_row, seq, event_type, msg_id) order by source_row) from raw.live_events
        group by document_id""",
    )
    assert len(per_document) == 2 and per_document[0] == per_document[1]
    # what staging deduplicates on: 20 raw rows, 10 events
    assert query(
        paths,
        "select count(*), count(distinct (room_id, coalesce(msg_id, session_id || ':' || seq))) from raw.live_events",
    ) == [(20, 10)]


def test_account_handles_come_from_the_log_then_the_folder_and_a_live_center_file_needs_a_folder(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, "recorded.jsonl", jsonl(*STREAM))  # at the inbox root: session_start says alice
    no_handle = [{k: v for k, v in line.items() if k != "handle"} for line in STREAM]
    drop(paths, "dave/live/other_tool.jsonl", jsonl(*no_handle))
    drop(paths, "nowhere.jsonl", jsonl(*[{**line, "session_id": "s9"} for line in no_handle]))
    drop(paths, "LIVE revenue.csv", csv_bytes(["Date,Diamonds", "2026-06-21,5"]))
    _land(paths)
    sql = "select original_name, account_handle, status, quarantine_reason from raw.documents order by 1"
    assert query(paths, sql) == [
        ("LIVE revenue.csv", None, "quarantined",
         "account_handle: a LIVE Center file does not name its account: put it in inbox/<handle>/"),
        ("nowhere.jsonl", None, "quarantined", "account_handle: the log names no account (no handle in its sidecar "
         "or session_start): put it in inbox/<handle>/live/"),
        ("other_tool.jsonl", "dave", "loaded", None),
        ("recorded.jsonl", "alice", "loaded", None),
    ]  # fmt: skip


def _received(tmp_path, relative: str, data: bytes) -> Received:
    stored = tmp_path / relative.replace("/", "_")
    stored.write_bytes(data)
    return Received("0" * 64, stored, relative.rsplit("/", 1)[-1], relative, datetime(2026, 6, 24))


@pytest.mark.parametrize(
    ("relative", "data", "expected"),
    [
        ("alice/live/x.jsonl", b"{}", ("live_log", None)),
        ("alice/live/x.jsonl.gz", b"", ("live_log", None)),
        ("x.JSONL", b"", ("live_log", None)),
        ("alice/live/notes.txt", b"", ("live_log", None)),  # anything in live/ is read as a log
        ("alice/live/x.session.json", b"{}", ("live_session", "alice")),
        ("Creator data 2026_06_02 14_59 UTC+0 (1).xlsx", b"", ("live_backstage", "backstage")),
        ("agency/Creator_data_2026_09_16_08_37_UTC0.csv", b"", ("live_backstage", "agency")),
        ("agency/creators.csv", b"Data period,Creator ID:,Creator's username\n", ("live_backstage", "agency")),
        ("carol/day.csv", "\ufeff日付,ダイヤモンド\n2026/06/21,5\n".encode(), ("live_center", "carol")),
        ("carol/LIVE Center activity.csv", b"Date,LIVEs,LIVE duration\n", ("live_center", "carol")),
        ("alice/live/LIVE.csv", b"Date,Diamonds\n", ("live_center", "alice")),
        ("carol/Viewers.csv", b"Date,Diamonds\n", None),  # a Studio name: Studio's, whatever its header
        ("carol/other.csv", b"Date,Total Viewers,New Viewers,Returning Viewers\n", None),
        ("carol/broken.xlsx", b"not a zip", None),  # unreadable: the Studio reader says why
        ("Content_alice.zip", b"PK", None),
    ],
)
def test_routing_by_path_then_header(tmp_path, relative, data, expected):
    assert routing.classify(_received(tmp_path, relative, data)) == expected


def test_sidecar_and_log_paths_pair_both_ways():
    assert routing.sidecar_path("a/live/x.jsonl.gz") == "a/live/x.session.json"
    assert routing.sidecar_path("a/live/x.jsonl") == "a/live/x.session.json"
    assert routing.log_paths("a/live/x.session.json") == ("a/live/x.jsonl", "a/live/x.jsonl.gz", "a/live/x")


def test_live_flags_pass_the_dbt_tests_of_the_flags_beside_studio_ones(tmp_path, dbt):
    """A killed recorder's log (its last line cut: flagged `partial_last_line`) and a LIVE Center file with more
    unique viewers than views land flagged; dbt's tests of stg_studio__row_flags pass. Its accepted rules once listed
    Studio's only, and any LIVE flag failed every run before anything was published."""
    paths = new_paths(tmp_path / "data")
    _drop_everything(paths)
    cut = json.dumps(record(11, "viewers", at=22, msg="m7", viewer_count=3))[:40].encode()
    drop(paths, "dave/live/killed.jsonl", jsonl(*STREAM, tail=cut))
    _land(paths)
    dbt(paths, ["build", "--select", "+stg_studio__row_flags", "+stg_studio__documents"], tmp_path / "target")
    assert query(paths, "select file_name, file_kind, rule_name from staging.stg_studio__row_flags order by 1") == [
        ("LIVE viewers.csv", "live_center_viewers", "unique_viewers_at_most_views"),
        ("killed.jsonl", "live_log", "partial_last_line"),
    ]


def test_the_landing_assets_report_live_rows_flags_and_quarantine(tmp_path):
    from orchestration.defs import studio
    from orchestration.defs.resources import DataDirResource

    paths = new_paths(tmp_path)
    _drop_everything(paths)
    result = dg.materialize(
        [studio.inbox, studio.studio_exports], resources={"data_dir": DataDirResource(data_dir=str(paths.root))}
    )
    assert result.success
    metadata = {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("studio_exports")
    }
    assert metadata["raw/live_events"] == {"rows_loaded": 19, "rows_flagged": 0, "files_loaded": 2,
                                           "files_quarantined": 1}  # fmt: skip
    assert metadata["raw/live_center_viewers"] == {"rows_loaded": 3, "rows_flagged": 1, "files_loaded": 1,
                                                   "files_quarantined": 0}  # fmt: skip
    assert metadata["raw/documents"]["documents_quarantined"] == 1
    checks = {(c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()}
    assert checks[("raw/live_center_viewers", "flagged_rows")] is False
    assert checks[("raw/live_events", "flagged_rows")] is True
    assert checks[("raw/documents", "no_structural_problems")] is False


def test_python_m_orchestration_live_record_runs_the_recorder(monkeypatch):
    import orchestration.live_recorder.__main__ as recorder

    calls = []
    monkeypatch.setattr(recorder, "main", lambda argv: calls.append(argv) or 0)
    assert cli_main(["live", "record", "@alice", "--gzip"]) == 0
    assert calls == [["record", "@alice", "--gzip"]]


def test_the_run_summary_counts_live_files_per_account_with_their_days(tmp_path, capsys):
    from orchestration.cli_summary import print_run

    paths = new_paths(tmp_path)
    since = datetime(2000, 1, 1)
    _drop_everything(paths)
    _land(paths)
    print_run(paths, since)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:13] == [
        # agency/ and backstage/ hold Backstage downloads only: folders, not accounts
        # nine files dropped: the sidecar is no export file, the broken log is quarantined
        "New export files this run: 7 (3 account(s), 2 agency-wide folder(s)), from 9 file(s) received",
        "  agency/ (agency-wide): 1 file(s), covering 2026-07-01 → 2026-07-07 (7 days)",
        "      live_backstage 1",
        "  @alice: 2 file(s), covering 2026-06-21 → 2026-06-22 (2 days)",
        "      live_log 1, viewers 1",
        "  backstage/ (agency-wide): 1 file(s), covering 2026-09-01 → 2026-09-15 (15 days)",
        "      live_backstage 1",
        "  @bob: 1 file(s), covering 2026-06-21 → 2026-06-21 (1 day)",
        "      live_log 1",
        "  @carol: 2 file(s), covering 2026-06-21 → 2026-06-23 (3 days)",
        "      live_center_engagement 1, live_center_viewers 1",
        "Quarantined in this run: 1",
    ]
    assert lines[13].startswith("  alice/live/broken.jsonl (@alice): json at row 3: line 3: not valid JSON")


def test_an_unforeseen_error_reading_one_live_file_quarantines_only_that_file(tmp_path, monkeypatch):
    from orchestration.lib.live import landing

    def boom(data, **kwargs):
        raise KeyError("a bug reading a Backstage export")

    monkeypatch.setattr(landing, "read_backstage_export", boom)
    monkeypatch.setattr(landing, "MAX_TOTAL_BYTES", 1_000)  # the alice log (10 lines, ~2.5 kB) is now too big
    paths = new_paths(tmp_path)
    _drop_everything(paths)
    _land(paths)
    quarantined = query(
        paths,
        """select original_name, account_handle, quarantine_reason from raw.documents
        where status = 'quarantined' order by 1""",
    )
    assert quarantined == [
        ("Creator data 2026_07_08 09_00 UTC+0.xlsx", "agency",
         "unreadable: the file could not be read (KeyError: 'a bug reading a Backstage export')"),
        ("Creator_data_2026_09_16_08_37_UTC0.csv", "backstage",
         "unreadable: the file could not be read (KeyError: 'a bug reading a Backstage export')"),
        ("alice_live.jsonl", "alice",
         "file_size: larger than 1,000 bytes: far larger than any LIVE file of this kind"),
        ("broken.jsonl", "alice", "file_size: larger than 1,000 bytes: far larger than any LIVE file of this kind"),
    ]  # fmt: skip
    # everything else still lands: bob's gzip log (compressed below the cap), LIVE Center, Studio
    assert query(paths, "select count(*) from raw.live_events") == [(9,)]
    assert query(paths, "select count(*) from raw.live_center_viewers") == [(3,)]
    assert query(paths, "select count(*) from raw.studio_viewers") == [(2,)]
