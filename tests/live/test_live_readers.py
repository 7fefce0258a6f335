"""The LIVE event log reader (docs/live.md section 1) and its contracts: logs are built here, line by line."""

import ast
import codecs
import gzip
import json
from datetime import datetime

import pandas as pd
import pytest

from orchestration.lib.core.containers import RefusedArchive
from orchestration.lib.core.paths import PROJECT_ROOT
from orchestration.lib.live.compressed import gunzip_capped
from orchestration.lib.live.event_log import read_live_log
from orchestration.lib.live.validation import apply_contract
from schemas.live_contracts import FOCUS, LIVE_CONTRACTS, RULES

T0 = 1_782_000_000_000  # 2026-06-21 00:00:00 UTC in epoch ms
ROOM = "7380000000000000001"


def record(seq, kind, *, conn="c1", at=0, msg=None, user=None, **extra):
    """One log record `at` seconds after T0; TikTok's own time is 0.3 s before receipt."""
    received = T0 + at * 1000
    line = {
        "format": "tiktok-live-log/1",
        "session_id": "s1",
        "room_id": ROOM,
        "connection_id": conn,
        "seq": seq,
        "type": kind,
        "received_at_ms": received,
        "timestamp_ms": None if msg is None else received - 300,
        "msg_id": msg,
        "user_id": user,
    }
    return {**line, **extra}


def gift(seq, msg, repeat_count, repeat_end, *, gift_type=1, price=1, at=10, group="g1"):
    return record(
        seq,
        "gift",
        at=at,
        msg=msg,
        user="6800000000000000001",
        gift_id=5655,
        gift_name="Rose",
        gift_type=gift_type,
        diamond_per_gift=price,
        repeat_count=repeat_count,
        repeat_end=repeat_end,
        group_id=group,
        to_user_id=None,
    )


def jsonl(*records, tail=b"") -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records) + tail


def read(data, name="alice_live.jsonl", **kwargs):
    return read_live_log(data, document_id="doc1", file_name=name, **kwargs)


def validated(log):
    """The events after the contract, as a landing would keep them."""
    return apply_contract("live_events", log.events, {"doc1": log.document})


def rules(doc, severity=None):
    return [(i.rule, i.row) for i in doc.issues if severity is None or i.severity == severity]


STREAM = [
    record(1, "session_start", handle="alice", recorder="test-recorder/1"),
    record(2, "connect"),
    record(3, "viewers", at=5, msg="m1", viewer_count=120, total_user=300),
    gift(4, "m2", 1, False),
    gift(5, "m3", 2, False),
    gift(6, "m4", 3, True),  # the streak ends: 3 Roses, counted once, here
    gift(7, "m5", 1, True, gift_type=2, price=299, at=12, group="g2"),  # not streakable: counts at once
    record(8, "live_end", at=20, msg="m6", reason="stream_ended"),
    record(9, "disconnect", at=20, reason="live_end"),
    record(10, "session_end", at=21, ended_by="live_end"),
]


def test_a_gift_streak_is_kept_event_by_event_with_its_end_marked():
    log = read(jsonl(*STREAM))
    events = validated(log)
    assert log.document.issues == []
    gifts = events[events["event_type"] == "gift"]
    assert gifts["repeat_count"].tolist() == [1, 2, 3, 1]
    assert gifts["repeat_end"].tolist() == [False, False, True, True]
    assert gifts["group_id"].tolist() == ["g1", "g1", "g1", "g2"]
    assert gifts["gift_id"].tolist() == ["5655"] * 4  # a numeric id is kept as its digits
    # What the marts will count: streak ends and non-streakable gifts, repeat_count × price = 3×1 + 1×299.
    counted = gifts[(gifts["gift_type"] != 1) | gifts["repeat_end"]]
    assert int((counted["repeat_count"] * counted["diamond_per_gift"]).sum()) == 302
    assert events["received_at"].iloc[3] == pd.Timestamp("2026-06-21 00:00:10")
    assert events["event_at"].iloc[3] == pd.Timestamp("2026-06-21 00:00:09.700")
    assert events["source_row"].tolist() == list(range(1, 11))


def test_the_session_is_derived_from_the_log_without_a_sidecar():
    log = read(jsonl(*STREAM))
    session = log.sessions.iloc[0]
    assert (session["session_id"], session["room_id"], session["handle"]) == ("s1", ROOM, "alice")
    assert session["recorder"] == "test-recorder/1"
    assert session["started_at"] == pd.Timestamp("2026-06-21 00:00:00")
    assert session["ended_at"] == pd.Timestamp("2026-06-21 00:00:21")
    assert (session["ended_by"], bool(session["end_seen"]), session["session_source"]) == ("live_end", True, "log")
    assert (session["connection_count"], session["reconnects"], session["events_written"]) == (1, 0, 10)
    assert apply_contract("live_sessions", log.sessions, {"doc1": log.document}).shape[0] == 1


def test_a_reconnect_replays_events_which_are_kept_not_errors():
    replayed = [
        record(1, "session_start", handle="alice", recorder="r/1"),
        record(2, "connect"),
        record(3, "comment", at=5, msg="m1", user="6800000000000000002"),
        record(4, "like", at=6, msg="m2", user="6800000000000000003", like_count=5, total_likes=5),
        record(5, "disconnect", at=7, reason="connection_closed"),
        record(6, "connect", conn="c2", at=9),
        # TikTok replays m1 and m2 on the new connection: same msg_id, same event, later receipt.
        {**record(7, "comment", conn="c2", at=9, msg="m1", user="6800000000000000002"), "timestamp_ms": T0 + 4700},
        {**record(8, "like", conn="c2", at=9, msg="m2", user="6800000000000000003", like_count=5, total_likes=5)}
        | {"timestamp_ms": T0 + 5700},
        record(9, "follow", conn="c2", at=10, msg="m3", user="6800000000000000004"),
    ]
    log = read(jsonl(*replayed))
    events = validated(log)
    assert log.document.issues == []
    assert len(events) == 9  # both copies land; deduplication on msg_id is downstream
    assert events["msg_id"].value_counts()[["m1", "m2", "m3"]].tolist() == [2, 2, 1]
    session = log.sessions.iloc[0]
    assert (session["connection_count"], session["reconnects"]) == (2, 1)
    connections = log.connections
    assert connections["connection_id"].tolist() == ["c1", "c2"]
    assert connections["connected_at"].tolist() == [pd.Timestamp("2026-06-21"), pd.Timestamp("2026-06-21 00:00:09")]
    assert connections["disconnected_at"].iloc[0] == pd.Timestamp("2026-06-21 00:00:07")
    assert connections["source_row"].tolist() == [1, 6]


def test_a_different_event_under_a_replayed_msg_id_is_flagged_and_kept():
    lines = [
        record(1, "connect"),
        record(2, "like", at=6, msg="m2", user="6800000000000000003", like_count=5, total_likes=5),
        record(3, "like", conn="c2", at=9, msg="m2", user="6800000000000000003", like_count=7, total_likes=12),
    ]
    log = read(jsonl(*lines))
    events = validated(log)
    assert len(events) == 3
    assert rules(log.document) == [("msg_id_repeats_same_event", 2), ("msg_id_repeats_same_event", 3)]
    assert not log.document.quarantined


def test_likes_with_missing_events_keep_the_room_total():
    likes = [
        record(1, "connect"),
        record(2, "like", at=1, msg="l1", user="6800000000000000001", like_count=5, total_likes=5),
        # TikTok skipped events here: the room total jumps from 5 to 40 with a 15-heart event.
        record(3, "like", at=2, msg="l2", user="6800000000000000002", like_count=15, total_likes=40),
        record(4, "like", at=3, msg="l3", user="6800000000000000001", like_count=3, total_likes=43),
    ]
    log = read(jsonl(*likes))
    events = validated(log)
    assert log.document.issues == []
    assert int(events["like_count"].sum()) == 23  # what a naive sum would say
    assert int(events["total_likes"].max()) == 43  # the hearts, per the spec


def test_a_gzip_log_reads_exactly_like_the_plain_one():
    plain = read(jsonl(*STREAM))
    compressed = read(gzip.compress(jsonl(*STREAM)), name="alice_live.jsonl.gz")
    assert compressed.document.issues == []
    pd.testing.assert_frame_equal(compressed.events, plain.events)


def test_a_gzip_log_saved_without_its_gz_suffix_is_still_inflated():
    log = read(gzip.compress(jsonl(*STREAM)), name="alice_live.jsonl")
    assert log.document.issues == [] and len(log.events) == 10


def test_a_gzip_log_in_several_members_reads_them_all():
    # A writer that flushes per member (`cat a.gz b.gz`) leaves several gzip members in one file.
    data = gzip.compress(jsonl(*STREAM[:4])) + gzip.compress(jsonl(*STREAM[4:]))
    log = read(data, name="alice_live.jsonl.gz")
    assert log.document.issues == [] and len(log.events) == 10


def test_a_gzip_log_cut_short_is_read_up_to_the_cut_and_flagged():
    whole = gzip.compress(jsonl(*STREAM))
    log = read(whole[: len(whole) // 2], name="alice_live.jsonl.gz")
    assert not log.document.quarantined
    assert ("gzip_complete", None) in rules(log.document, "plausibility")
    assert 0 < len(log.events) < 10
    assert log.events["seq"].tolist() == list(range(1, len(log.events) + 1))


def test_a_gzip_bomb_is_refused_before_it_is_inflated():
    bomb = gzip.compress(b" " * (4 * 1024 * 1024))  # ~4 KiB → 4 MiB: a ratio near 1000, past the 200 limit
    log = read(bomb, name="bomb.jsonl.gz")
    assert rules(log.document) == [("safe_gzip", None)]
    assert "compression ratio" in log.document.issues[0].message
    assert log.events.empty


def test_many_gzip_members_and_members_across_input_slices_inflate_exactly_and_each_byte_is_fed_once(monkeypatch):
    """Every member was handed the whole rest of the file: 160,000 empty members (3 MB) took 49 s (review). Now the
    input goes to zlib in slices from an offset: it must inflate what `gzip.decompress` does, across slice
    boundaries, and hand zlib each compressed byte a few times at most (counted, not timed)."""
    import random
    import zlib

    from orchestration.lib.live import compressed

    rng = random.Random(7)
    big = bytes(rng.getrandbits(8) for _ in range(200_000))  # incompressible: a member over several slices
    data = gzip.compress(b"") * 20_000 + gzip.compress(big) + gzip.compress(b"tail\n") * 3 + gzip.compress(b"")
    fed = []
    real = zlib.decompressobj

    class Counting:
        def __init__(self, *args, **kwargs):
            self.inner = real(*args, **kwargs)

        def decompress(self, chunk, limit=0):
            fed.append(len(chunk))
            return self.inner.decompress(chunk, limit)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    expected = gzip.decompress(data)
    monkeypatch.setattr(compressed.zlib, "decompressobj", Counting)
    inflated = gunzip_capped(data)
    assert inflated.complete and inflated.data == expected == big + b"tail\n" * 3
    assert len(data) <= sum(fed) < 8 * len(data)  # the whole rest of the file per member: 13,000 times
    cut = gunzip_capped(data[: len(data) - 10])  # the last (empty) member cut: what came before it, flagged
    assert not cut.complete and cut.data == big + b"tail\n" * 3


def test_a_gzip_stream_past_the_size_limit_is_refused():
    with pytest.raises(RefusedArchive, match="expands past 1000 bytes"):
        gunzip_capped(gzip.compress(jsonl(*STREAM)), max_bytes=1000)


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_a_log_saved_with_a_byte_order_mark_reads_as_without(line_end):
    """A log opened and saved by a Windows tool (PowerShell, Notepad) starts with UTF-8's BOM: it was quarantined
    whole ("not valid JSON" on line 1)."""
    plain = read(jsonl(*STREAM))
    for data in (codecs.BOM_UTF8 + jsonl(*STREAM).replace(b"\n", line_end),
                 gzip.compress(codecs.BOM_UTF8 + jsonl(*STREAM))):  # fmt: skip
        log = read(data, name="alice_live.jsonl.gz" if data[:2] == b"\x1f\x8b" else "alice_live.jsonl")
        assert not log.document.quarantined and log.document.issues == []
        pd.testing.assert_frame_equal(log.events, plain.events)


def test_a_truncated_last_line_is_dropped_with_a_flag_not_a_quarantine():
    cut = json.dumps(record(11, "viewers", at=22, msg="m7", viewer_count=3))[:40].encode()
    log = read(jsonl(*STREAM, tail=cut))
    assert not log.document.quarantined
    assert rules(log.document) == [("partial_last_line", 11)]
    assert len(log.events) == 10


def test_a_truncated_last_line_an_editor_ended_with_a_newline_is_dropped_too():
    """A `.part` file opened and saved in an editor gets a newline after its cut line; a last line that is a whole
    record's shape but not JSON still quarantines the file."""
    cut = json.dumps(record(11, "viewers", at=22, msg="m7", viewer_count=3))[:40].encode()
    log = read(jsonl(*STREAM, tail=cut + b"\r\n\n"))
    assert not log.document.quarantined and rules(log.document) == [("partial_last_line", 11)]
    assert len(log.events) == 10
    edited = read(jsonl(*STREAM, tail=b'{"seq": 11, oops}\n'))
    assert edited.document.quarantined and rules(edited.document) == [("json", 11)]


def test_a_line_nested_past_the_parsers_limit_is_named_by_its_line():
    """It was a RecursionError, quarantined as `unreadable` without the line."""
    nested = b"[" * 100_000 + b"]" * 100_000
    log = read(jsonl(*STREAM[:2]) + nested + b"\n" + jsonl(*STREAM[2:]))
    assert log.document.quarantined and rules(log.document) == [("json", 3)]
    assert "maximum recursion depth" in log.document.issues[0].message


def test_a_whole_last_line_without_its_newline_is_judged_not_dropped():
    assert len(read(jsonl(*STREAM)[:-1]).events) == 10  # valid: kept
    wrong_format = json.dumps({**STREAM[2], "seq": 11, "format": "other/1"}).encode()
    assert rules(read(jsonl(*STREAM, tail=wrong_format)).document) == [("format", 11)]


def test_a_bad_json_line_in_the_middle_quarantines_naming_its_line():
    data = jsonl(*STREAM[:2]) + b'{"format": "tiktok-live-log/1", "seq": 3,,}\n' + jsonl(*STREAM[3:])
    log = read(data)
    assert log.document.quarantined
    assert rules(log.document) == [("json", 3)]
    assert log.document.issues[0].message.startswith("line 3: not valid JSON")
    assert log.events.empty and log.sessions.empty


def test_a_complete_last_line_that_is_not_json_is_a_bad_line_not_a_partial_one():
    log = read(jsonl(*STREAM) + b"garbage\n")
    assert rules(log.document) == [("json", 11)]


def test_a_wrong_format_tag_quarantines_naming_its_line():
    data = jsonl(STREAM[0], {**STREAM[1], "format": "tiktok-live-log/2"}, *STREAM[2:])
    log = read(data)
    issue = log.document.issues[0]
    assert (issue.rule, issue.row, issue.column, issue.value) == ("format", 2, "format", "tiktok-live-log/2")
    assert log.document.quarantined


def test_a_line_without_the_common_fields_quarantines():
    incomplete = {k: v for k, v in STREAM[2].items() if k not in ("connection_id", "msg_id")}
    log = read(jsonl(*STREAM[:2], incomplete))
    issue = log.document.issues[0]
    assert (issue.rule, issue.row) == ("common_fields", 3)
    assert "connection_id, msg_id" in issue.message


def test_two_sessions_in_one_file_quarantine_naming_the_first_line_of_the_second():
    log = read(jsonl(*STREAM[:3], {**STREAM[3], "session_id": "s2"}))
    assert rules(log.document) == [("one_session_per_file", 4)]


def test_a_value_of_the_wrong_kind_quarantines_naming_line_and_field():
    log = read(jsonl(*STREAM[:2], {**STREAM[2], "viewer_count": "120"}))
    issue = log.document.issues[0]
    assert (issue.rule, issue.row, issue.column, issue.value) == ("field_type", 3, "viewer_count", "120")


def test_an_unknown_record_type_is_kept_and_flagged():
    log = read(jsonl(*STREAM[:3], record(4, "poll", at=6, msg="p1", poll_id=9)))
    events = validated(log)
    assert events["event_type"].tolist()[-1] == "poll"
    assert rules(log.document) == [("known_record_type", 4)]
    assert not log.document.quarantined


@pytest.mark.parametrize(
    ("change", "rule", "severity"),
    [
        ({"seq": 2}, "seq_unique_per_session", "structural"),  # line 3 repeats line 2's seq
        ({"user_id": "alice_fan"}, "user_id_numeric", "structural"),
        ({"viewer_count": None}, "viewers_has_viewer_count", "structural"),
        ({"viewer_count": -1}, "non_negative", "structural"),
        ({"received_at_ms": 1_782_000_000, "timestamp_ms": None}, "after_tiktok_live_launch", "structural"),
        ({"total_user": 100}, "total_user_at_least_viewer_count", "plausibility"),  # 100 < 120 concurrent
        ({"timestamp_ms": T0 - 2 * 86_400_000}, "event_within_a_day_of_receipt", "plausibility"),
    ],
)
def test_contract_rules_on_a_viewers_line(change, rule, severity):
    log = read(jsonl(*STREAM[:2], {**STREAM[2], **change}, *STREAM[3:]))
    assert not log.document.issues  # the reader takes it: the contract judges
    kept = validated(log)
    rows = [2, 3] if rule == "seq_unique_per_session" else [3]  # a repeated key names both of its rows
    assert [(i.rule, i.row, i.severity) for i in log.document.issues if i.rule == rule] == [
        (rule, row, severity) for row in rows
    ]
    assert len(kept) == (10 if severity == "plausibility" else 0)


def test_a_gift_without_its_price_quarantines():
    log = read(jsonl(*STREAM[:3], {**STREAM[3], "diamond_per_gift": None}))
    validated(log)
    issue = log.document.issues[0]
    assert (issue.rule, issue.row, issue.column) == ("gift_has_price_and_streak", 4, "diamond_per_gift")


def test_a_like_event_of_more_than_15_hearts_is_flagged():
    log = read(jsonl(record(1, "like", msg="l1", user="1", like_count=40, total_likes=40)))
    assert len(validated(log)) == 1
    assert rules(log.document, "plausibility") == [("likes_per_event_1_to_15", 1)]


def sidecar(**change):
    content = {
        "format": "tiktok-live-session/1",
        "session_id": "s1",
        "handle": "alice",
        "room_id": ROOM,
        "log_file": "alice_live.jsonl",
        "started_at_ms": T0,
        "ended_at_ms": T0 + 21_000,
        "ended_by": "live_end",
        "end_seen": True,
        "connections": [{"connection_id": "c1", "connected_at_ms": T0, "disconnected_at_ms": T0 + 20_000}],
        "reconnects": 0,
        "events_written": 10,
    }
    return json.dumps({**content, **change}).encode()


def test_the_sidecar_gives_the_session_and_its_connections():
    log = read(jsonl(*STREAM), sidecar=sidecar(), sidecar_name="alice_live.session.json")
    assert log.document.issues == []
    session = log.sessions.iloc[0]
    assert (session["session_source"], session["handle"], session["recorder"]) == (
        "sidecar",
        "alice",
        "test-recorder/1",
    )
    assert (session["started_at"], session["ended_at"]) == (
        pd.Timestamp("2026-06-21"),
        pd.Timestamp("2026-06-21 00:00:21"),
    )
    assert (session["connection_count"], session["reconnects"], session["events_written"]) == (1, 0, 10)
    assert log.connections[["connection_id", "disconnected_at"]].values.tolist() == [
        ["c1", pd.Timestamp("2026-06-21 00:00:20")]
    ]
    for table, frame in (("live_sessions", log.sessions), ("live_connections", log.connections)):
        assert len(apply_contract(table, frame, {"doc1": log.document})) == 1
    assert log.document.issues == []


def test_a_sidecar_counting_more_records_than_the_log_holds_is_flagged():
    log = read(jsonl(*STREAM), sidecar=sidecar(events_written=12), sidecar_name="x.session.json")
    issue = log.document.issues[0]
    assert (issue.rule, issue.severity, issue.file) == ("sidecar_event_count", "plausibility", "x.session.json")
    assert "counts 12 records, the log holds 10: lines were lost" in issue.message


def test_a_sidecar_of_another_session_quarantines_the_pair_naming_the_sidecar():
    log = read(jsonl(*STREAM), sidecar=sidecar(session_id="s9"), sidecar_name="x.session.json")
    issue = log.document.issues[0]
    assert (issue.rule, issue.file, issue.value) == ("sidecar_session", "x.session.json", "s9")
    assert log.events.empty


def test_every_frame_has_its_contract_columns_and_types():
    log = read(jsonl(*STREAM), sidecar=sidecar())
    for table, frame in (
        ("live_events", log.events),
        ("live_sessions", log.sessions),
        ("live_connections", log.connections),
    ):
        contract = LIVE_CONTRACTS[table]
        assert list(frame.columns) == list(contract.columns), table
        contract.validate(frame)  # exact dtypes: nothing for pandera to coerce or refuse


def test_every_rule_has_a_severity_and_a_why():
    names = {c.name for s in LIVE_CONTRACTS.values() for c in s.checks}
    names |= {c.name for s in LIVE_CONTRACTS.values() for col in s.columns.values() for c in col.checks}
    assert names <= set(RULES)
    assert all(r.severity in ("structural", "plausibility") and r.why for r in RULES.values())
    assert {n for s in LIVE_CONTRACTS.values() for n in (c.name for c in s.checks)} <= set(FOCUS)


def test_every_reader_rule_has_the_severity_its_call_site_uses():
    """`doc.fail("rule", …)` is structural and `doc.flag("rule", …)` plausibility, as RULES says."""
    used = {}
    for path in sorted((PROJECT_ROOT / "orchestration" / "lib" / "live").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            severity = {"fail": "structural", "_BadLine": "structural", "_BadSidecar": "structural"}.get(name)
            severity = "plausibility" if name == "flag" else severity
            if severity:
                used[node.args[0].value] = severity
    assert len(used) >= 25  # the walk found the readers' rules
    assert set(used) <= set(RULES)
    assert {rule: RULES[rule].severity for rule in used} == used


def test_timestamps_are_named_at_and_days_are_not():
    """The raw DDL makes a datetime column ending in _at a timestamp, any other a date."""
    kinds = {
        name: name.endswith("_at")
        for s in LIVE_CONTRACTS.values()
        for name, column in s.columns.items()
        if str(column.dtype).startswith("datetime64")
    }
    instants = {"received_at", "event_at", "started_at", "ended_at", "connected_at", "disconnected_at", "joined_at"}
    assert {name for name, is_instant in kinds.items() if is_instant} == instants
    assert {name for name, is_instant in kinds.items() if not is_instant} == {
        "period_start",
        "period_end",
        "metric_date",
    }


def test_received_at_is_utc_wall_time_without_a_zone():
    log = read(jsonl(STREAM[0]))
    assert log.events["received_at"].iloc[0].to_pydatetime() == datetime(2026, 6, 21, 0, 0)
