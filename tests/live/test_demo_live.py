"""The demo's LIVE side reads cleanly through the pipeline's own LIVE readers and contracts, and holds the
pitfalls of docs/live.md at known places (figures worked out once from the files, then pinned here)."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from orchestration.devtools.demo import generate_demo_inbox
from orchestration.lib.live.backstage import read_backstage_export
from orchestration.lib.live.event_log import read_live_log
from orchestration.lib.live.live_center import read_live_center_file
from orchestration.lib.live.validation import apply_contract

RECONNECT_LOG = "techcreator_20260131T025536Z_7601353714512628025.jsonl"
MIDNIGHT_LOG = "maria.cocina_20260201T221810Z_7602024529004832904.jsonl"
BATTLE_LOG = "le_petit_chef_20260215T192317Z_7607174561218267538.jsonl.gz"
BIG_LOG = "techcreator_20251103T015706Z_7568312140332378632.jsonl"
LOG_NAME = re.compile(r"^(?P<handle>[a-z0-9._]+)_(?P<at>\d{8}T\d{6}Z)_(?P<room>\d{19})\.jsonl(?:\.gz)?$")
BACKSTAGE_NAME = re.compile(  # TikTok's two spellings, and a browser's copy suffix
    r"^(?:Creator data (\d{4})_(\d{2})_(\d{2}) (\d{2})_(\d{2}) UTC\+0"
    r"|Creator_data_(\d{4})_(\d{2})_(\d{2})_(\d{2})_(\d{2})_UTC0)(?: \(1\))?\.(?:xlsx|csv)$"
)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    generate_demo_inbox(inbox)
    return inbox


def _logs(inbox: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(inbox.glob("*/live/*.jsonl*"))}


def _live_center(inbox: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(inbox.glob("*/live/*.csv"))}


def _records(path: Path) -> list[dict]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def _sidecar(path: Path) -> dict:
    name = path.name.removesuffix(".gz").removesuffix(".jsonl") + ".session.json"
    return json.loads((path.parent / name).read_text(encoding="utf-8"))


def _backstage(inbox: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted((inbox / "backstage").iterdir())}


def _creators(path: Path) -> pd.DataFrame:
    export = read_backstage_export(path.read_bytes(), document_id=path.name, file_name=path.name)
    return export.creators.set_index("creator_username")


def _host_diamonds(records: list[dict]) -> int:
    """A LIVE's diamonds worked out by hand: each msg_id once, a streak at its end, gifts to a guest apart."""
    seen, diamonds = set(), 0
    for r in records:
        if r["type"] != "gift" or r["msg_id"] in seen:
            continue
        seen.add(r["msg_id"])
        if r["repeat_end"] and r["to_user_id"] is None:
            diamonds += r["repeat_count"] * r["diamond_per_gift"]
    return diamonds


def test_every_demo_log_and_sidecar_reads_with_no_issue_and_passes_the_contracts(inbox):
    logs = _logs(inbox)
    assert len(logs) == 12 and sum(name.endswith(".gz") for name in logs) == 5
    for name, path in logs.items():
        sidecar = path.parent / (name.removesuffix(".gz").removesuffix(".jsonl") + ".session.json")
        log = read_live_log(
            path.read_bytes(),
            document_id=name,
            file_name=name,
            sidecar=sidecar.read_bytes(),
            sidecar_name=sidecar.name,
        )
        documents = {name: log.document}
        for table, frame in (
            ("live_events", log.events),
            ("live_sessions", log.sessions),
            ("live_connections", log.connections),
        ):
            assert len(apply_contract(table, frame, documents)) == len(frame), (name, table)
        assert log.document.issues == [], name
        assert log.sessions["session_source"].tolist() == ["sidecar"]


def test_every_backstage_download_reads_with_no_issue_and_passes_the_contract(inbox):
    files = _backstage(inbox)
    assert len(files) == 31 and sum(name.endswith(".csv") for name in files) == 7  # every 4th day
    for name, path in files.items():
        export = read_backstage_export(path.read_bytes(), document_id=name, file_name=name)
        creators = apply_contract("live_backstage_creators", export.creators, {name: export.document})
        assert export.document.issues == [], name
        assert len(creators) == 7, name  # 3 demo accounts, 3 other creators, 1 who quit
        # the download moment in the name is the file's mtime
        assert datetime.fromtimestamp(os.stat(path).st_mtime, UTC).replace(tzinfo=None, second=0) == (
            export.document.exported_at
        ), name


def test_each_log_is_named_and_closed_as_the_recorder_writes_it(inbox):
    for name, path in _logs(inbox).items():
        records, sidecar = _records(path), _sidecar(path)
        match = LOG_NAME.match(name)
        assert match and match["handle"] == records[0]["handle"] == sidecar["handle"], name
        started = datetime.fromtimestamp(sidecar["started_at_ms"] / 1000, UTC).strftime("%Y%m%dT%H%M%SZ")
        assert (match["at"], match["room"]) == (started, sidecar["room_id"]), name
        assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz"), name
        assert [r["seq"] for r in records] == list(range(1, len(records) + 1)), name
        assert sidecar["events_written"] == len(records) and sidecar["log_file"] == name
        assert [r["type"] for r in records[:2]] == ["session_start", "connect"], name
        end = [(r["type"], r.get("reason") or r.get("ended_by")) for r in records[-3:]]
        assert end == [("live_end", "stream_ended"), ("disconnect", "live_end"), ("session_end", "live_end")], name
        assert (sidecar["ended_by"], sidecar["end_seen"], sidecar["ended_at_ms"]) == (
            "live_end",
            True,
            records[-1]["received_at_ms"],
        ), name
        envelope = ["format", "session_id", "room_id", "connection_id", "seq", "type", "received_at_ms"]
        assert list(records[0]) == [*envelope, "timestamp_ms", "msg_id", "user_id", "handle", "recorder"]


def test_every_streak_rises_to_its_end_and_each_live_has_the_top_fans_ten_roses(inbox):
    for name, path in _logs(inbox).items():
        streaks = defaultdict(list)
        seen = set()
        for r in _records(path):
            if r["type"] == "gift" and r["gift_type"] == 1 and r["msg_id"] not in seen:
                seen.add(r["msg_id"])
                streaks[r["group_id"]].append(r)
        assert None not in streaks, name
        for events in streaks.values():
            counts = [e["repeat_count"] for e in events]
            assert counts == sorted(set(counts)) and counts[0] == 1, name
            assert [e["repeat_end"] for e in events] == [False] * (len(events) - 1) + [True], name
            assert len({(e["user_id"], e["gift_id"]) for e in events}) == 1, name
        tens = [g for g in streaks.values() if g[0]["gift_name"] == "Rose" and g[-1]["repeat_count"] == 10]
        planted = [g for g in tens if [e["repeat_count"] for e in g] == list(range(1, 11))]
        assert planted, name  # ten events, 1..10: counted once, 10 x 1 diamond
    # hand-checked on the first LIVE: the planted streak's final line
    records = _records(_logs(inbox)[BIG_LOG])
    final = [r for r in records if r["type"] == "gift" and r["gift_name"] == "Rose" and r["repeat_end"]]
    assert any(r["repeat_count"] == 10 and r["diamond_per_gift"] == 1 for r in final)


def test_the_reconnect_replays_the_last_50_events_verbatim_on_a_new_connection(inbox):
    logs = _logs(inbox)
    records, sidecar = _records(logs[RECONNECT_LOG]), _sidecar(logs[RECONNECT_LOG])
    first, second = (c["connection_id"] for c in sidecar["connections"])
    assert (sidecar["reconnects"], len(sidecar["connections"])) == (1, 2)
    kinds = [(r["type"], r["connection_id"]) for r in records]
    drop = kinds.index(("disconnect", first))
    assert records[drop]["reason"] == "connection_closed" and kinds[drop + 1] == ("connect", second)
    assert records[drop + 1]["received_at_ms"] - records[drop]["received_at_ms"] >= 5_000  # the recorder's wait
    repeated = {m for m, n in Counter(r["msg_id"] for r in records if r["msg_id"]).items() if n > 1}
    assert len(repeated) == 50
    before = [r for r in records[:drop] if r["msg_id"]][-50:]
    replay = records[drop + 2 : drop + 52]
    assert {r["msg_id"] for r in before} == repeated
    envelope = ("seq", "received_at_ms", "connection_id")
    for old, new in zip(before, replay, strict=True):
        assert new["connection_id"] == second and old["connection_id"] == first
        assert {k: v for k, v in old.items() if k not in envelope} == {
            k: v for k, v in new.items() if k not in envelope
        }
    # no other LIVE repeats a msg_id
    for name, path in logs.items():
        if name != RECONNECT_LOG:
            ids = [r["msg_id"] for r in _records(path) if r["msg_id"]]
            assert len(ids) == len(set(ids)), name


def test_maria_s_third_live_runs_past_midnight_in_madrid_and_in_utc(inbox):
    records = _records(_logs(inbox)[MIDNIGHT_LOG])
    madrid = ZoneInfo("Europe/Madrid")
    start = datetime.fromtimestamp(records[0]["received_at_ms"] / 1000, UTC)
    end = datetime.fromtimestamp(next(r for r in records if r["type"] == "live_end")["timestamp_ms"] / 1000, UTC)
    assert (start.strftime("%Y-%m-%d %H:%M"), end.strftime("%Y-%m-%d %H:%M")) == (
        "2026-02-01 22:18",
        "2026-02-02 00:09",
    )
    local = start.astimezone(madrid), end.astimezone(madrid)
    assert (local[0].strftime("%Y-%m-%d %H:%M"), local[1].strftime("%Y-%m-%d %H:%M")) == (
        "2026-02-01 23:18",
        "2026-02-02 01:09",
    )


def test_one_gift_goes_to_the_battle_guest(inbox):
    to_guest = [
        (name, r) for name, path in _logs(inbox).items() for r in _records(path) if r.get("to_user_id") is not None
    ]
    assert len(to_guest) == 1
    name, gift = to_guest[0]
    assert name == BATTLE_LOG
    assert (gift["gift_name"], gift["gift_type"], gift["diamond_per_gift"], gift["repeat_count"]) == (
        "Confetti",
        2,
        100,
        1,
    )
    assert gift["to_user_id"].isdigit() and gift["to_user_id"] != gift["user_id"]


def test_like_events_miss_hearts_but_the_room_total_keeps_them(inbox):
    for name, path in _logs(inbox).items():
        seen: set[str] = set()
        likes = [
            r for r in _records(path) if r["type"] == "like" and not (r["msg_id"] in seen or seen.add(r["msg_id"]))
        ]
        totals = [r["total_likes"] for r in likes]
        assert totals == sorted(totals) and all(1 <= r["like_count"] <= 15 for r in likes), name
    likes = [r for r in _records(_logs(inbox)[BIG_LOG]) if r["type"] == "like"]
    assert (sum(r["like_count"] for r in likes), max(r["total_likes"] for r in likes)) == (20_491, 31_677)


def test_viewer_samples_come_every_5_to_20_seconds(inbox):
    for name, path in _logs(inbox).items():
        times = [r["timestamp_ms"] for r in _records(path) if r["type"] == "viewers" and r["msg_id"]]
        times = sorted(set(times))  # the replayed samples are the same samples
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert len(times) > 100 and all(4_999 <= g <= 20_001 for g in gaps), name


def test_backstage_counters_are_month_to_date_and_reset_on_the_1st(inbox):
    files = _backstage(inbox)
    days = sorted("-".join([g for g in BACKSTAGE_NAME.match(name).groups() if g][:3]) for name in files)
    assert len(set(days)) == 30 and (days[0], days[-1]) == ("2026-01-22", "2026-02-20")
    january = _creators(files["Creator data 2026_02_01 15_27 UTC+0.xlsx"])  # still the whole of January
    february = _creators(files["Creator data 2026_02_02 15_45 UTC+0.csv"])  # the 1st alone: reset
    assert (january["period_start"].iloc[0], january["period_end"].iloc[0]) == (
        pd.Timestamp("2026-01-01"),
        pd.Timestamp("2026-01-31"),
    )
    assert set(february["period_start"]) == set(february["period_end"]) == {pd.Timestamp("2026-02-01")}
    for counter in ("diamonds", "live_duration_s", "valid_live_days", "new_followers", "live_streams"):
        assert (february[counter] <= january.loc[february.index, counter]).all(), counter
    # last month's diamonds in February's downloads are January's final counter
    assert (february["diamonds_last_month"] == january.loc[february.index, "diamonds"]).all()
    # the 1st's counters are that day's LIVEs: maria.cocina's across midnight and le_petit_chef's, as the logs say
    logs = _logs(inbox)
    assert february.loc["maria.cocina", "diamonds"] == _host_diamonds(_records(logs[MIDNIGHT_LOG])) == 974
    chef = _records(logs["le_petit_chef_20260201T215046Z_7602017488786031371.jsonl.gz"])
    assert february.loc["le_petit_chef", "diamonds"] == _host_diamonds(chef) == 171
    assert (
        february.loc["maria.cocina", "live_duration_s"] == 6_696
        and february.loc["maria.cocina", "valid_live_days"] == 1
    )
    assert february.loc["techcreator", "diamonds"] == 0  # his LIVE of the 30th (New York) began on the 31st UTC


def test_the_creator_who_quit_is_kept_by_username(inbox):
    for path in _backstage(inbox).values():
        quit_row = _creators(path).loc["dani.vibes"]
        assert bool(quit_row["has_quit"]) and pd.isna(quit_row["creator_id"]), path.name
    january = _creators(_backstage(inbox)["Creator data 2026_02_01 15_27 UTC+0.xlsx"]).loc["dani.vibes"]
    february = _creators(_backstage(inbox)["Creator data 2026_02_20 15_28 UTC+0.xlsx"]).loc["dani.vibes"]
    assert (january["diamonds"], february["diamonds"], february["diamonds_last_month"]) == (5_158, 0, 5_158)


def test_a_download_clicked_twice_is_the_same_bytes_under_a_browser_copy_name(inbox):
    files = _backstage(inbox)
    again = files["Creator data 2026_02_01 15_27 UTC+0 (1).xlsx"]
    assert again.read_bytes() == files["Creator data 2026_02_01 15_27 UTC+0.xlsx"].read_bytes()
    assert all(BACKSTAGE_NAME.match(name) for name in files)


def test_live_center_files_read_with_no_issue_and_match_the_recorded_live(inbox):
    files = _live_center(inbox)
    assert sorted(files) == sorted(
        f"LIVE Center {kind}{copy}.csv"
        for kind in ("viewers", "engagement", "revenue", "activity")
        for copy in ("", " (1)")
    )
    read = {}
    for name, path in files.items():
        daily = read_live_center_file(path.read_bytes(), document_id=name, file_name=name)
        assert (daily.language, daily.document.issues) == ("en", []), name
        apply_contract(daily.table, daily.days, {name: daily.document})
        assert daily.document.issues == [], name
        read[(daily.kind, "(1)" in name)] = daily.days.set_index("metric_date")
    # 28 days to the day before the first download (2026-02-13), 14 to the day before the second (02-20)
    first, second = read[("viewers", False)], read[("viewers", True)]
    assert (first.index.min(), first.index.max(), len(first)) == (
        pd.Timestamp("2026-01-16"),
        pd.Timestamp("2026-02-12"),
        28,
    )
    assert (second.index.min(), second.index.max(), len(second)) == (
        pd.Timestamp("2026-02-06"),
        pd.Timestamp("2026-02-19"),
        14,
    )
    # the LIVE that began at 00:19 UTC on the 15th is the 14th in New York: its figures are that day's
    records = _records(_logs(inbox)["techcreator_20260215T001940Z_7606879830824724574.jsonl"])
    day = pd.Timestamp("2026-02-14")
    assert (
        second.loc[day, "top_viewer_count"] == max(r["viewer_count"] for r in records if r["type"] == "viewers") == 189
    )
    assert read[("revenue", True)].loc[day, "diamonds"] == _host_diamonds(records) == 985
    assert tuple(read[("activity", True)].loc[day, ["live_duration_s", "live_count"]]) == (3_153, 1)
    assert read[("engagement", True)].loc[day, "likes"] == max(r["total_likes"] for r in records if r["type"] == "like")
