"""The LIVE recorder, driven by fixtures in TikTokLive 7.0.1's event shape and a fake client.

Never the network, never TikTokLive itself: fixtures (tests/live/fixtures/recorder_*.json) are turned into
attribute trees (`types.SimpleNamespace`), and `FakeLive` plays the client: one scripted connection per
`start()`, a `ConnectEvent` first and a `DisconnectEvent` when its websocket closes, as TikTokLive does.
Times come from a fake clock (T0 = 2026-01-01T00:00:00Z, +1 s per reading) and ids from a counter, so
every expected line below is written out whole.
"""

from __future__ import annotations

import ast
import asyncio
import gzip
import json
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestration.lib.core.paths import PROJECT_ROOT
from orchestration.live_recorder.__main__ import main
from orchestration.live_recorder.handlers import event_fields
from orchestration.live_recorder.recorder import (
    SUBSCRIBED_EVENTS,
    ClientApi,
    NotRecorded,
    ReconnectPolicy,
    default_out_dir,
    record,
)
from orchestration.live_recorder.session import RecordingSession, parse_handle

FIXTURES = Path(__file__).parent / "fixtures"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in epoch ms
ROOM = "7451234567890123456"
LOG_NAME = f"creator.name_20260101T000000Z_{ROOM}.jsonl"
SIDECAR_NAME = f"creator.name_20260101T000000Z_{ROOM}.session.json"
COMMON_FIELDS = (
    "format",
    "session_id",
    "room_id",
    "connection_id",
    "seq",
    "type",
    "received_at_ms",
    "timestamp_ms",
    "msg_id",
    "user_id",
)
RECORD_TYPES = {
    "session_start",
    "connect",
    "viewers",
    "like",
    "gift",
    "comment",
    "follow",
    "share",
    "join",
    "live_end",
    "disconnect",
    "session_end",
}


def attributes(value):
    """JSON fixture → the attribute tree a TikTokLive event is read through."""
    if isinstance(value, dict):
        return SimpleNamespace(**{key: attributes(item) for key, item in value.items()})
    if isinstance(value, list):
        return [attributes(item) for item in value]
    return value


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"recorder_{name}.json").read_text(encoding="utf-8"))


class UserOfflineError(Exception):
    """Named like TikTokLive's: the recorder recognises it by name, never by importing it."""


class SignatureRateLimitError(Exception):
    pass


START_ERRORS = {"UserOfflineError": UserOfflineError, "SignatureRateLimitError": SignatureRateLimitError}


class FakeLive:
    """The TikTokLive stand-in: hands out one FakeClient per connection in the fixture, then offline ones."""

    def __init__(self, fixture: dict, interrupt: str = "KeyboardInterrupt") -> None:
        self.connections = list(fixture["connections"])
        self.interrupt = interrupt
        self.start_room_ids: list[int | None] = []
        self.sleeps: list[float] = []
        self.clients: list[FakeClient] = []

    def api(self) -> ClientApi:
        return ClientApi(new_client=self._new_client, event_types={name: name for name in SUBSCRIBED_EVENTS})

    def _new_client(self, handle: str) -> FakeClient:
        script = self.connections.pop(0) if self.connections else {"start_error": "UserOfflineError"}
        self.clients.append(FakeClient(self, script))
        return self.clients[-1]

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class FakeClient:
    def __init__(self, live: FakeLive, script: dict) -> None:
        self.live = live
        self.script = script
        self.listeners: dict[str, list] = {}
        self.disconnect_requested = asyncio.Event()

    def add_listener(self, event_type, listener) -> None:
        self.listeners.setdefault(event_type, []).append(listener)

    def _emit(self, name: str, event) -> None:
        for listener in self.listeners.get(name, []):
            listener(event)

    async def start(self, *, room_id=None):
        self.live.start_room_ids.append(room_id)
        if "start_error" in self.script:
            raise START_ERRORS[self.script["start_error"]]("scripted start failure")
        return asyncio.get_running_loop().create_task(self._websocket())

    async def _websocket(self) -> None:
        self._emit("ConnectEvent", SimpleNamespace(unique_id="creator.name", room_id=self.script["room_id"]))
        for step in self.script["steps"]:
            await asyncio.sleep(0)
            if step.get("interrupt"):
                if self.live.interrupt == "KeyboardInterrupt":
                    raise KeyboardInterrupt
                signal.raise_signal(getattr(signal, self.live.interrupt))
                await self.disconnect_requested.wait()  # nothing more arrives before the socket closes
                break
            self._emit(step["event"], attributes(step["fields"]))
            if step["event"] == "LiveEndEvent":
                break  # TikTokLive disconnects by itself at the end of the LIVE
        self._emit("DisconnectEvent", SimpleNamespace())

    async def disconnect(self) -> None:
        self.disconnect_requested.set()


def fake_clock():
    readings = iter(range(T0, T0 + 10_000_000, 1000))
    return lambda: next(readings)


def fake_ids():
    ids = iter(["session-1", "conn-1", "conn-2", "conn-3", "conn-4"])
    return lambda: next(ids)


def new_session(out_dir: Path, *, compress: bool = False) -> RecordingSession:
    return RecordingSession(
        "creator.name", out_dir, recorder="test-recorder/1", compress=compress, now_ms=fake_clock(), new_id=fake_ids()
    )


def run_fixture(out_dir: Path, name: str, *, interrupt: str = "KeyboardInterrupt", **kwargs):
    live = FakeLive(load(name), interrupt=interrupt)
    messages: list[str] = []
    finished = record(new_session(out_dir, **kwargs), live.api(), sleep=live.sleep, say=messages.append)
    return finished, live, messages


def read_log(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def read_sidecar(out_dir: Path) -> dict:
    return json.loads((out_dir / SIDECAR_NAME).read_text(encoding="utf-8"))


def line(seq, record_type, at_s, *, conn="conn-1", timestamp_ms=None, msg_id=None, user_id=None, **extra):
    """One whole expected record; `at_s` is the fake clock's reading in seconds after T0."""
    return {
        "format": "tiktok-live-log/1",
        "session_id": "session-1",
        "room_id": ROOM,
        "connection_id": conn,
        "seq": seq,
        "type": record_type,
        "received_at_ms": T0 + at_s * 1000,
        "timestamp_ms": timestamp_ms,
        "msg_id": msg_id,
        "user_id": user_id,
        **extra,
    }


def assert_valid_log(records: list[dict], sidecar: dict) -> None:
    """What docs/live.md promises of every log: common fields, seq 1..n, one session, a matching sidecar."""
    for index, entry in enumerate(records):
        assert set(COMMON_FIELDS) <= set(entry), entry
        assert entry["format"] == "tiktok-live-log/1"
        assert entry["session_id"] == sidecar["session_id"]
        assert entry["room_id"] == sidecar["room_id"]
        assert isinstance(entry["connection_id"], str)
        assert entry["seq"] == index + 1
        assert entry["type"] in RECORD_TYPES
        assert isinstance(entry["received_at_ms"], int)
        assert entry["timestamp_ms"] is None or isinstance(entry["timestamp_ms"], int)
        assert entry["msg_id"] is None or isinstance(entry["msg_id"], str)
        assert entry["user_id"] is None or isinstance(entry["user_id"], str)
    assert records[0]["type"] == "session_start" and records[-1]["type"] == "session_end"
    assert sidecar["events_written"] == len(records)
    connects = [r["connection_id"] for r in records if r["type"] == "connect"]
    assert [c["connection_id"] for c in sidecar["connections"]] == connects


# --- handlers: one recorded client event → exactly the documented fields ----------------------------


def handler_output(name: str) -> dict:
    fixture = load("events")
    sample = fixture["events"][name]
    return event_fields(sample["event"], attributes(sample["fields"]), fixture["host_handle"])


def common(msg_suffix: str, timestamp_ms: int, user_id: str | None) -> dict:
    return {
        "room_id": ROOM,
        "timestamp_ms": timestamp_ms,
        "msg_id": f"74512345678902000{msg_suffix}",
        "user_id": user_id,
    }


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("viewers", {"type": "viewers", **common("01", 1767225605000, None), "viewer_count": 812, "total_user": 10450}),
        (
            "like",
            {
                "type": "like",
                **common("02", 1767225606000, "6800000000000000042"),
                "like_count": 15,
                "total_likes": 98765,
            },
        ),
        (
            "gift_to_host",
            {
                "type": "gift",
                **common("03", 1767225607000, "6800000000000000042"),
                "gift_id": 5655,
                "gift_name": "Rose",
                "gift_type": 1,
                "diamond_per_gift": 1,
                "repeat_count": 1,
                "repeat_end": True,
                "group_id": "1767225607001",
                "to_user_id": None,  # the host (display id Creator.Name = the recorded handle)
            },
        ),
        (
            "gift_to_guest",
            {
                "type": "gift",
                **common("04", 1767225608000, "6800000000000000043"),
                "gift_id": 6064,
                "gift_name": "GG",
                "gift_type": 2,
                "diamond_per_gift": 1,
                "repeat_count": 1,
                "repeat_end": True,
                "group_id": None,  # protobuf 0 = absent
                "to_user_id": "6700000000000000002",
            },
        ),
        ("comment", {"type": "comment", **common("05", 1767225609000, "6800000000000000044")}),
        ("follow", {"type": "follow", **common("06", 1767225610000, "6800000000000000045")}),
        ("share", {"type": "share", **common("07", 1767225611000, "6800000000000000046")}),
        ("join", {"type": "join", **common("08", 1767225612000, "6800000000000000047")}),
        ("live_end", {"type": "live_end", **common("09", 1767229200000, None), "reason": "stream_ended"}),
        ("live_suspended", {"type": "live_end", **common("10", 1767229200000, None), "reason": "stream_suspended"}),
    ],
)
def test_handlers_turn_each_client_event_into_its_documented_record(sample, expected):
    assert handler_output(sample) == expected


def test_protobuf_zeros_and_missing_parts_are_written_as_null():
    event = attributes({"common": {"msg_id": 0, "room_id": 0, "create_time": 0}, "user": None, "count": 1, "total": 7})
    assert event_fields("LikeEvent", event, "creator.name") == {
        "type": "like",
        "room_id": None,
        "timestamp_ms": None,
        "msg_id": None,
        "user_id": None,
        "like_count": 1,
        "total_likes": 7,
    }


def test_a_live_end_action_other_than_ended_or_suspended_is_refused_by_name():
    event = attributes({"common": None, "action": 1})
    with pytest.raises(ValueError, match=r"LiveEndEvent with action 1: expected one of \[3, 4\]"):
        event_fields("LiveEndEvent", event, "creator.name")


# --- whole recordings -----------------------------------------------------------------------------


def test_a_gift_streak_is_five_lines_and_the_live_end_closes_the_session(tmp_path):
    finished, live, _ = run_fixture(tmp_path, "gift_streak")

    gift = {"gift_id": 5655, "gift_name": "Rose", "gift_type": 1, "diamond_per_gift": 1, "group_id": "1767225620001"}
    expected = [
        line(1, "session_start", 0, handle="creator.name", recorder="test-recorder/1"),
        line(2, "connect", 0),
        *[
            line(
                2 + i,
                "gift",
                i,
                timestamp_ms=1767225620000 + 200 * i,
                msg_id=f"745123456789030000{i}",
                user_id="6800000000000000042",
                **gift,
                repeat_count=i,
                repeat_end=i == 5,
                to_user_id=None,
            )
            for i in range(1, 6)
        ],
        line(8, "live_end", 6, timestamp_ms=1767229200000, msg_id="7451234567890300009", reason="stream_ended"),
        line(9, "disconnect", 7, reason="live_end"),
        line(10, "session_end", 8, ended_by="live_end"),
    ]
    records = read_log(tmp_path / LOG_NAME)
    assert records == expected
    sidecar = read_sidecar(tmp_path)
    assert sidecar == {
        "format": "tiktok-live-session/1",
        "session_id": "session-1",
        "handle": "creator.name",
        "room_id": ROOM,
        "log_file": LOG_NAME,
        "started_at_ms": T0,
        "ended_at_ms": T0 + 8000,
        "ended_by": "live_end",
        "end_seen": True,
        "connections": [{"connection_id": "conn-1", "connected_at_ms": T0, "disconnected_at_ms": T0 + 7000}],
        "reconnects": 0,
        "events_written": 10,
    }
    assert_valid_log(records, sidecar)
    assert (finished.log_path, finished.ended_by, finished.events_written) == (tmp_path / LOG_NAME, "live_end", 10)
    assert live.start_room_ids == [None]  # the first connection lets the client find the room
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOG_NAME, SIDECAR_NAME]  # no .part left


def test_a_reconnect_starts_a_new_connection_and_replayed_events_keep_their_msg_id(tmp_path):
    finished, live, messages = run_fixture(tmp_path, "reconnect")

    viewer = "6800000000000000042"
    universe = {
        "gift_id": 5269,
        "gift_name": "TikTok Universe",
        "gift_type": 2,
        "diamond_per_gift": 44999,
        "repeat_count": 1,
        "repeat_end": True,
        "group_id": None,
        "to_user_id": None,
    }
    replayed_like = {"timestamp_ms": 1767225602000, "msg_id": "7451234567890400002", "user_id": viewer}
    replayed_gift = {"timestamp_ms": 1767225603000, "msg_id": "7451234567890400003", "user_id": viewer, **universe}
    records = read_log(tmp_path / LOG_NAME)
    assert records == [
        line(1, "session_start", 0, handle="creator.name", recorder="test-recorder/1"),
        line(2, "connect", 0),
        line(
            3, "viewers", 1, timestamp_ms=1767225601000, msg_id="7451234567890400001", viewer_count=120, total_user=300
        ),
        line(4, "like", 2, **replayed_like, like_count=5, total_likes=100),
        line(5, "gift", 3, **replayed_gift),
        line(6, "disconnect", 4, reason="connection_closed"),
        line(7, "connect", 5, conn="conn-2"),
        line(8, "like", 6, conn="conn-2", **replayed_like, like_count=5, total_likes=100),
        line(9, "gift", 7, conn="conn-2", **replayed_gift),
        line(
            10,
            "like",
            8,
            conn="conn-2",
            timestamp_ms=1767225660000,
            msg_id="7451234567890400004",
            user_id=viewer,
            like_count=3,
            total_likes=103,
        ),
        line(
            11,
            "live_end",
            9,
            conn="conn-2",
            timestamp_ms=1767229200000,
            msg_id="7451234567890400005",
            reason="stream_ended",
        ),
        line(12, "disconnect", 10, conn="conn-2", reason="live_end"),
        line(13, "session_end", 11, conn="conn-2", ended_by="live_end"),
    ]
    sidecar = read_sidecar(tmp_path)
    assert sidecar["connections"] == [
        {"connection_id": "conn-1", "connected_at_ms": T0, "disconnected_at_ms": T0 + 4000},
        {"connection_id": "conn-2", "connected_at_ms": T0 + 5000, "disconnected_at_ms": T0 + 10000},
    ]
    assert (sidecar["reconnects"], sidecar["ended_by"], sidecar["end_seen"]) == (1, "live_end", True)
    assert_valid_log(records, sidecar)
    assert live.sleeps == [5.0]  # the policy's first wait
    assert live.start_room_ids == [None, int(ROOM)]  # the reconnect goes back to the same room
    assert messages == ["connection closed before the LIVE ended: reconnecting"]
    assert finished.reconnects == 1


def test_ctrl_c_inside_the_client_flushes_every_event_received_and_writes_the_sidecar(tmp_path):
    finished, live, _ = run_fixture(tmp_path, "interrupted", interrupt="KeyboardInterrupt")

    records = read_log(tmp_path / LOG_NAME)
    assert records == [
        line(1, "session_start", 0, handle="creator.name", recorder="test-recorder/1"),
        line(2, "connect", 0),
        line(3, "viewers", 1, timestamp_ms=1767225601000, msg_id="7451234567890500001", viewer_count=57, total_user=80),
        line(
            4,
            "like",
            2,
            timestamp_ms=1767225602000,
            msg_id="7451234567890500002",
            user_id="6800000000000000042",
            like_count=2,
            total_likes=40,
        ),
        line(5, "comment", 3, timestamp_ms=1767225603000, msg_id="7451234567890500003", user_id="6800000000000000042"),
        # the client died with the interrupt, so the recorder closes the connection itself
        line(6, "disconnect", 4, reason="interrupted"),
        line(7, "session_end", 4, ended_by="interrupted"),
    ]
    sidecar = read_sidecar(tmp_path)
    assert (sidecar["ended_by"], sidecar["end_seen"], sidecar["events_written"]) == ("interrupted", False, 7)
    assert sidecar["connections"] == [
        {"connection_id": "conn-1", "connected_at_ms": T0, "disconnected_at_ms": T0 + 4000}
    ]
    assert_valid_log(records, sidecar)
    assert finished.ended_by == "interrupted"


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_real_sigint_or_sigterm_disconnects_the_client_and_logs_its_disconnect(tmp_path, signal_name):
    if signal_name == "SIGINT" and signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("asyncio only takes over Ctrl-C when SIGINT has Python's default handler")
    finished, live, _ = run_fixture(tmp_path, "interrupted", interrupt=signal_name)

    records = read_log(tmp_path / LOG_NAME)
    assert [(r["seq"], r["type"], r["received_at_ms"] - T0) for r in records] == [
        (1, "session_start", 0),
        (2, "connect", 0),
        (3, "viewers", 1000),
        (4, "like", 2000),
        (5, "comment", 3000),
        (6, "disconnect", 4000),  # the client's own DisconnectEvent, after the recorder asked it to close
        (7, "session_end", 5000),
    ]
    assert records[5]["reason"] == "interrupted" and records[6]["ended_by"] == "interrupted"
    assert live.clients[0].disconnect_requested.is_set()
    sidecar = read_sidecar(tmp_path)
    assert (sidecar["ended_by"], sidecar["end_seen"], sidecar["ended_at_ms"]) == ("interrupted", False, T0 + 5000)
    assert_valid_log(records, sidecar)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the handler leaves with the event loop


def test_a_disconnect_when_the_room_is_no_longer_live_ends_the_session_as_disconnected(tmp_path):
    fixture = load("reconnect")
    fixture["connections"][1] = {"start_error": "UserOfflineError"}
    live = FakeLive(fixture)
    messages: list[str] = []
    record(new_session(tmp_path), live.api(), sleep=live.sleep, say=messages.append)

    records = read_log(tmp_path / LOG_NAME)
    assert [(r["seq"], r["type"]) for r in records][-2:] == [(6, "disconnect"), (7, "session_end")]
    assert records[-1]["ended_by"] == "disconnected"
    sidecar = read_sidecar(tmp_path)
    assert (sidecar["ended_by"], sidecar["end_seen"], sidecar["reconnects"]) == ("disconnected", False, 0)
    assert live.start_room_ids == [None, int(ROOM)] and live.sleeps == [5.0]  # one try: the room is over
    assert messages[-1] == "@creator.name is no longer LIVE"
    assert_valid_log(records, sidecar)


def test_reconnect_attempts_stop_after_the_policy_waits(tmp_path):
    fixture = load("reconnect")
    fixture["connections"][1:] = [{"start_error": "SignatureRateLimitError"}] * 3
    live = FakeLive(fixture)
    messages: list[str] = []
    policy = ReconnectPolicy(delays_s=(1.0, 2.0))
    record(new_session(tmp_path), live.api(), policy=policy, sleep=live.sleep, say=messages.append)

    assert live.sleeps == [1.0, 2.0]  # two waits, two failed attempts, then it gives up
    assert live.start_room_ids == [None, int(ROOM), int(ROOM)]
    assert messages[-1] == "giving up: the connection could not be re-established"
    assert read_sidecar(tmp_path)["ended_by"] == "disconnected"


def test_a_live_that_never_connects_writes_nothing(tmp_path):
    live = FakeLive({"connections": [{"start_error": "UserOfflineError"}]})
    with pytest.raises(NotRecorded, match="could not connect to @creator.name's LIVE: UserOfflineError"):
        record(new_session(tmp_path), live.api(), sleep=live.sleep, say=lambda message: None)
    assert list(tmp_path.iterdir()) == []


def test_an_error_inside_the_client_saves_the_log_as_error_and_raises(tmp_path):
    fixture = load("gift_streak")
    fixture["connections"][0]["steps"].insert(2, {"event": "NoSuchEvent", "fields": {}})
    live = FakeLive(fixture)
    live.api = lambda: ClientApi(  # subscribe the unknown event too, so the handler lookup fails mid-LIVE
        new_client=live._new_client, event_types={name: name for name in (*SUBSCRIBED_EVENTS, "NoSuchEvent")}
    )
    with pytest.raises(ValueError, match="no log record for TikTokLive event 'NoSuchEvent'"):
        record(new_session(tmp_path), live.api(), sleep=live.sleep, say=lambda message: None)

    records = read_log(tmp_path / LOG_NAME)
    assert [r["type"] for r in records] == ["session_start", "connect", "gift", "gift", "disconnect", "session_end"]
    assert records[-2]["reason"] == "error" and records[-1]["ended_by"] == "error"
    assert read_sidecar(tmp_path)["ended_by"] == "error"


def test_the_log_is_a_part_file_the_inbox_skips_until_the_session_ends(tmp_path):
    session = new_session(tmp_path)
    session.on_event("ConnectEvent", SimpleNamespace(unique_id="creator.name", room_id=int(ROOM)))
    assert [p.name for p in tmp_path.iterdir()] == [LOG_NAME + ".part"]
    assert len(read_log(tmp_path / (LOG_NAME + ".part"))) == 2  # flushed line by line: readable while recording

    session.finish("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOG_NAME, SIDECAR_NAME]


def test_gzip_writes_the_same_records_without_a_file_name_in_the_header(tmp_path):
    plain, compressed = tmp_path / "plain", tmp_path / "gzip"
    run_fixture(plain, "gift_streak")
    finished, _, _ = run_fixture(compressed, "gift_streak", compress=True)

    assert finished.log_path == compressed / (LOG_NAME + ".gz")
    assert read_log(finished.log_path) == read_log(plain / LOG_NAME)
    assert finished.log_path.read_bytes()[3] & 0x08 == 0  # FNAME flag off: the .part name is not leaked
    assert (compressed / SIDECAR_NAME).exists()


@pytest.mark.parametrize("compress", [False, True])
def test_the_pipelines_live_reader_takes_the_recorders_log_and_sidecar_without_an_issue(tmp_path, compress):
    from orchestration.lib.live.event_log import read_live_log  # the pipeline's side of the format

    finished, _, _ = run_fixture(tmp_path, "reconnect", compress=compress)
    log = read_live_log(
        finished.log_path.read_bytes(),
        document_id="doc-1",
        file_name=finished.log_path.name,
        sidecar=finished.sidecar_path.read_bytes(),
        sidecar_name=finished.sidecar_path.name,
    )
    assert log.document.issues == []
    assert len(log.events) == 13
    session = log.sessions.iloc[0]
    assert (session["session_source"], session["ended_by"], session["reconnects"]) == ("sidecar", "live_end", 1)
    assert list(log.connections["connection_id"]) == ["conn-1", "conn-2"]


# --- command line and packaging -------------------------------------------------------------------


def test_handles_are_normalised_like_the_inbox_folders():
    assert parse_handle(" @Creator.Name ") == "creator.name"
    with pytest.raises(ValueError, match=r"'@\.hidden' is not a TikTok handle"):
        parse_handle("@.hidden")


def test_the_default_folder_is_the_accounts_live_inbox(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(tmp_path))
    assert default_out_dir("creator.name") == tmp_path / "raw" / "inbox" / "creator.name" / "live"


def test_without_the_live_extra_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "TikTokLive", None)  # as if not installed: `import TikTokLive` fails
    assert main(["record", "@creator.name", "--out", str(tmp_path)]) == 1
    assert "make live-record HANDLE=@name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_bad_handle_is_a_usage_error(capsys):
    assert main(["record", "@not/a/handle"]) == 2
    assert "'@not/a/handle' is not a TikTok handle" in capsys.readouterr().err


def test_tiktoklive_is_imported_only_inside_a_function():
    top_level, inside_functions = [], []
    for path in sorted((PROJECT_ROOT / "orchestration" / "live_recorder").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nested = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for n in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                if any((name or "").split(".")[0] == "TikTokLive" for name in names):
                    (inside_functions if id(node) in nested else top_level).append(f"{path.name}:{node.lineno}")
    assert top_level == []
    assert [where.split(":")[0] for where in inside_functions] == ["recorder.py", "recorder.py"]
