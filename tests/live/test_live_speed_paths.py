"""The LIVE readers' fast paths give what the long ways give, value for value and dtype for dtype.

Each fast path (a clean log read a column at a time, frames built from columns, the replay rule looking at
repeated msg_ids only) keeps the long way beside it for what it is not sure of; here both run on the same
tricky inputs and must agree on every frame, issue and flag."""

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.live import backstage, event_log, sessions
from orchestration.lib.live.frames import records_frame
from schemas.live_contracts import _replays_are_identical

T0 = 1_782_000_000_000  # 2026-06-21 00:00:00 UTC in epoch ms


def _record(seq, kind="like", **extra):
    line = {
        "format": "tiktok-live-log/1",
        "session_id": "s1",
        "room_id": "7380000000000000001",
        "connection_id": "c1",
        "seq": seq,
        "type": kind,
        "received_at_ms": T0 + seq * 1000,
        "timestamp_ms": T0 + seq * 1000 - 300,
        "msg_id": f"m{seq}",
        "user_id": "6800000000000000001",
    }
    return {**line, **extra}


BASE = [
    _record(1, "session_start", msg_id=None, user_id=None, timestamp_ms=None, handle="alice", recorder="r/1"),
    _record(2, "connect", msg_id=None, user_id=None, timestamp_ms=None),
    _record(3, "viewers", viewer_count=120, total_user=300),
    _record(4, like_count=3, total_likes=10),
    _record(
        5, "gift", gift_id=5655, gift_name="Rose", gift_type=1, diamond_per_gift=1, repeat_count=1, repeat_end=True
    ),
    _record(6, like_count=2, total_likes=12),
]


def _log(records, *, changes=None, tail=b"", sep=b"\n"):
    records = [dict(r) for r in records]
    for position, change in (changes or {}).items():
        records[position].update(change)
        records[position] = {k: v for k, v in records[position].items() if v != "DROP"}
    return sep.join(json.dumps(r).encode() for r in records) + sep + tail


LOGS = {
    "clean": _log(BASE),
    "int ids": _log(BASE, changes={2: {"room_id": 7380000000000000001, "msg_id": 99, "user_id": 123}}),
    "unicode and an unknown field": _log(BASE, changes={4: {"gift_name": "café ☕ \u2028", "extra": [1, {"a": 2}]}}),
    "an unknown type": _log(BASE, changes={3: {"type": "mystery"}}),
    "blank lines": _log(BASE).replace(b"\n", b"\n\n", 2),
    "a line of spaces": _log(BASE).replace(b"\n", b"\n  \n", 1),
    "CRLF": _log(BASE, sep=b"\r\n"),
    "spaces around a record": _log(BASE).replace(b'{"format"', b'  {"format"', 1),
    "no final newline": _log(BASE)[:-1],
    "a cut last line": _log(BASE, tail=b'{"format": "tiktok-'),
    "a duplicated key": _log(BASE).replace(b'"seq": 4,', b'"seq": 4, "seq": 40,', 1),
    "a float count": _log(BASE, changes={3: {"like_count": 3.0}}),
    "a fractional count": _log(BASE, changes={3: {"like_count": 3.5}}),
    "a bool count": _log(BASE, changes={3: {"like_count": True}}),
    "an int flag": _log(BASE, changes={4: {"repeat_end": 1}}),
    "an empty type": _log(BASE, changes={3: {"type": ""}}),
    "an empty msg_id": _log(BASE, changes={3: {"msg_id": ""}}),
    "a null seq": _log(BASE, changes={3: {"seq": None}}),
    "no user_id key": _log(BASE, changes={3: {"user_id": "DROP"}}),
    "no format": _log(BASE, changes={3: {"format": "DROP"}}),
    "another format": _log(BASE, changes={3: {"format": "tiktok-live-log/2"}}),
    "a list as format": _log(BASE, changes={3: {"format": ["x"]}}),
    "two sessions": _log(BASE, changes={4: {"session_id": "s2"}}),
    "an epoch before 1970": _log(BASE, changes={3: {"timestamp_ms": -1}}),
    "an epoch past 2100": _log(BASE, changes={3: {"timestamp_ms": 5_000_000_000_000}}),
    "NaN": _log(BASE).replace(b'"seq": 4', b'"seq": NaN', 1),
    "an array line": _log(BASE).replace(_log(BASE[3:4])[:-1], b"[1, 2]", 1),
    "not UTF-8": _log(BASE).replace(b"Rose", b"Ros\xff", 1),
    "a byte-order mark": b"\xef\xbb\xbf" + _log(BASE),
    "a count past 2**53 beside gaps": _log(BASE, changes={3: {"like_count": 2**53 + 1}}),
    "seq past 2**53": _log([{**r, "seq": 2**53 + r["seq"]} for r in BASE]),
    "seq past int64": _log([{**r, "seq": 2**63 + r["seq"]} for r in BASE]),
    "a negative count": _log(BASE, changes={3: {"like_count": -4}}),
    "a replayed event": _log([*BASE, {**BASE[3], "seq": 7}]),
    "only blank lines": b"\n\n",
    "empty": b"",
}


def _outcome(data: bytes):
    try:
        log = event_log.read_live_log(data, document_id="doc1", file_name="alice.jsonl")
    except Exception as error:  # the landing quarantines a file whose reading raises: the error is its result
        return f"{type(error).__name__}: {error}"
    return log.events, log.sessions, log.connections, [vars(issue) for issue in log.document.issues]


def _assert_same_frame(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert [(str(t), getattr(t, "storage", None)) for t in fast.dtypes] == [
        (str(t), getattr(t, "storage", None)) for t in slow.dtypes
    ]


def _assert_same_outcome(fast, slow) -> None:
    assert type(fast) is type(slow)
    if isinstance(slow, str):
        assert fast == slow
        return
    for fast_frame, slow_frame in zip(fast[:3], slow[:3], strict=True):
        _assert_same_frame(fast_frame, slow_frame)
    assert fast[3] == slow[3]


@pytest.mark.parametrize("name", LOGS)
def test_a_log_reads_the_same_by_columns_as_record_by_record(name, monkeypatch):
    fast = _outcome(LOGS[name])
    # the reader as it was: every line through the record-by-record reader, the frame from its rows
    monkeypatch.setattr(event_log, "clean_log_columns", lambda text, decode: None)
    monkeypatch.setattr(event_log, "events_frame", event_log._events_frame_the_long_way)
    _assert_same_outcome(fast, _outcome(LOGS[name]))


@pytest.mark.parametrize(
    ("name", "read_by_columns"),
    [("clean", True), ("int ids", True), ("blank lines", True), ("a line of spaces", False), ("CRLF", True)]
    + [(name, False) for name in ("a float count", "an empty type", "no user_id key", "two sessions", "NaN")],
)
def test_only_a_clean_log_is_read_by_columns(name, read_by_columns):
    # CRLF is clean: the decoder takes the \r as the space after a record, record by record too
    assert (event_log.clean_log_columns(LOGS[name], event_log._DECODER.decode) is not None) == read_by_columns


def test_a_clean_log_by_columns_numbers_its_lines_and_reads_ids_as_text():
    numbers, columns = event_log.clean_log_columns(LOGS["blank lines"], event_log._DECODER.decode)
    assert numbers == [1, 3, 5, 6, 7, 8]  # two blank lines after the first and second records
    numbers, columns = event_log.clean_log_columns(LOGS["int ids"], event_log._DECODER.decode)
    assert (columns["room_id"][2], columns["msg_id"][2], columns["user_id"][2]) == ("7380000000000000001", "99", "123")
    assert columns["gift_id"][4] == "5655" and columns["like_count"][:4] == [None, None, None, 3]


# --- frames from records ------------------------------------------------------------------------


def _backstage_records():
    row = dict.fromkeys(backstage.BACKSTAGE_FRAME_COLUMNS)
    return [
        {**row, "source_row": 1, "period_start": date(2026, 1, 1), "period_end": date(2026, 1, 24), "has_quit": False,
         "creator_id": "7289385088456965716", "creator_username": "sofia", "diamonds": 258_996,
         "joined_at": datetime(2023, 8, 5, 0, 11), "fan_contribution_share": 0.1897},
        {**row, "source_row": 2, "period_start": date(2026, 1, 1), "period_end": date(2026, 1, 24), "has_quit": True,
         "creator_id": None, "creator_username": "dani", "diamonds": None, "joined_at": None},
    ]  # fmt: skip


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # pandas, the long way
@pytest.mark.parametrize(
    "change",
    [{}, {"diamonds": 2**53 + 1}, {"diamonds": 2**63}, {"joined_at": datetime(9999, 1, 1)}, {"has_quit": None}],
    ids=["plain", "past 2**53 beside a gap", "past int64", "out of nanosecond range", "a missing flag"],
)
def test_a_backstage_frame_from_columns_is_the_frame_from_records(change):
    records = _backstage_records()
    records[0].update(change)
    assert set(backstage.BACKSTAGE_FRAME_COLUMNS) >= {"diamonds", "joined_at", "fan_contribution_share"}

    def built(build):
        try:
            return build("doc1", [dict(r) for r in records])
        except Exception as error:
            return f"{type(error).__name__}: {error}"

    fast, slow = built(backstage._frame), built(backstage._frame_the_long_way)
    if isinstance(slow, str):
        assert fast == slow
    else:
        _assert_same_frame(fast, slow)


def test_a_count_past_2_53_beside_a_gap_keeps_every_digit_both_ways():
    # from_records alone reads integers with a gap as float64, which rounds 2**53 + 1 to 2**53: neither way may
    records = [{"n": 2**53 + 1}, {"n": None}]
    assert records_frame(records, {"n": "Int64"})["n"].tolist() == [2**53 + 1, pd.NA]
    creators = _backstage_records()
    creators[0]["diamonds"], creators[1]["diamonds"] = 2**53 + 1, None
    for build in (backstage._frame, backstage._frame_the_long_way):
        assert build("doc1", [dict(r) for r in creators])["diamonds"].tolist()[:2] == [2**53 + 1, pd.NA]
    events, *_ = _outcome(LOGS["a count past 2**53 beside gaps"])
    assert 2**53 + 1 in events["like_count"].dropna().tolist()


def test_session_frames_from_columns_are_the_frames_from_records():
    session = {
        "document_id": "doc1", "source_row": 1, "session_id": "s1", "room_id": "r1", "handle": None,
        "recorder": "r/1", "started_at": pd.Timestamp(T0, unit="ms"), "ended_at": None, "ended_by": None,
        "end_seen": None, "connection_count": 2, "reconnects": 1, "events_written": 10**15, "session_source": "log",
    }  # fmt: skip
    for rows, columns in (([session], sessions.SESSION_COLUMNS), ([], sessions.CONNECTION_COLUMNS)):
        _assert_same_frame(sessions._frame(rows, columns), sessions._frame_the_long_way(rows, columns))


# --- the replay rule ----------------------------------------------------------------------------


def _replays_the_long_way(frame: pd.DataFrame) -> pd.Series:
    """The rule as first written: every row's content as text, whatever its msg_id."""
    key = ["document_id", "session_id", "msg_id"]
    content = [c for c in frame.columns if c not in ("source_row", "seq", "received_at", "connection_id")]
    variants = frame.loc[frame["msg_id"].notna(), content].astype("string").fillna("∅").drop_duplicates()
    conflicting = variants.loc[variants.duplicated(subset=key, keep=False), key].drop_duplicates()
    hit = frame[key].astype("string").merge(conflicting, how="left", indicator=True)
    return pd.Series(hit["_merge"].to_numpy() != "both", index=frame.index)


def _events(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = 400
    msg = rng.choice(["m1", "m2", "m3", "m4", None, *(f"u{i}" for i in range(300))], size)
    return pd.DataFrame(
        {
            "document_id": pd.array(rng.choice(["d1", "d2"], size), dtype="string"),
            "source_row": np.arange(1, size + 1),
            "session_id": pd.array(rng.choice(["s1", "s2", None], size, p=[0.6, 0.35, 0.05]), dtype="string"),
            "seq": pd.array(rng.integers(1, 50, size), dtype="Int64"),
            "received_at": pd.to_datetime(T0 + rng.integers(0, 10**6, size), unit="ms"),
            "connection_id": pd.array(rng.choice(["c1", "c2"], size), dtype="string"),
            "msg_id": pd.array(msg, dtype="string"),
            "like_count": pd.array(rng.choice([1, 2, None], size), dtype="Int64"),
            "gift_name": pd.array(rng.choice(["Rose", "∅", None], size), dtype="string"),
        },
        index=pd.RangeIndex(10, 10 + size),
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_replay_rule_on_repeated_msg_ids_only_is_the_rule_on_every_row(seed):
    frame = _events(seed)
    expected = _replays_the_long_way(frame)
    assert 0 < (~expected).sum() < len(frame)  # the case is real: some rows fail, most pass
    pd.testing.assert_series_equal(_replays_are_identical(frame), expected)


def test_the_replay_rule_with_no_repeated_msg_id_passes_every_row():
    frame = _events(0).drop_duplicates(subset=["document_id", "session_id", "msg_id"])
    assert _replays_are_identical(frame).all() and _replays_the_long_way(frame).all()


def test_empty_frames_from_columns_are_the_empty_frames_from_records():
    _assert_same_frame(backstage._frame("", []), backstage._frame_the_long_way("", []))
    _assert_same_frame(
        sessions._frame([], sessions.SESSION_COLUMNS), sessions._frame_the_long_way([], sessions.SESSION_COLUMNS)
    )
    empty = dict.fromkeys(event_log.EVENT_COLUMNS, [])
    _assert_same_frame(event_log.empty_events(), event_log._events_frame_the_long_way("", [], empty))
