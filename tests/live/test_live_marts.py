"""LIVE marts from hand-made raw rows: `dbt build --select +fct_live_*` on a fresh warehouse, exact values.

The rows (inserted into the raw LIVE tables of a warehouse made by `connect()`, as landing would):
- account `alice` is a TikTok API account whose accounts.yml time zone is America/New_York (an
  `raw.api_pulls` row records it): her LIVEs' days are New York days (EST, UTC-5, in early March).
- LIVE R1 (one recording, sidecar): 2026-03-02 04:30:00 → 05:30:00 UTC = 1 March 23:30 → 2 March
  00:30 in New York, so it belongs to 1 March. Connection c1 04:30:00–04:50:00, reconnect c2
  04:50:30–05:30:00: one gap of 30 s. Viewer samples at 04:30:00 (10), 04:40:00 (40), 05:00:00 (20),
  holding 600, 1200 and 1800 s. 50 comments (5 viewers) on c1, all 50 replayed on c2 after the reconnect
  with their msg_ids. Like events (5, total 5), (10, total 15), (3, total 100): the events that took the
  total from 15 to 97 never came. A streak of 10 roses (1 diamond each, repeat_count 1..10, repeat_end
  on the 10th), a Galaxy (1000 diamonds) from viewer 222, a Lion (500) to battle guest 999.
- LIVE R2: 2026-03-02 20:00 → 21:00 UTC (15:00 New York), one viewer sample of 50; LIVE Center files of
  alice for 2 March (1 LIVE, 3600 s, top viewers 90, likes 500, 7 new followers, 300 diamonds).
- Backstage downloads (month-to-date): 27 Feb, 28 Feb, 1 Mar, 2 Mar, and the 2 Mar file uploaded a
  second time. alice (id 7001): diamonds 1000, 1200, 100, 90 (goes down on 2 Mar: restated). bob (id 7002)
  quits on 1 March (listed by username only from then): 10, 30, 5, 8. carol quit before the first
  download and is in the 2 Mar file only.
- Later (the incremental test): the recorder restarted on R2, a second recording 21:10 → 21:30 UTC (a
  sample of 80, a 30-diamond Doughnut); another recorder's log of R1 that began earlier, 04:20 → 04:35
  UTC (a follow), so R1 now starts at 23:20 on 1 March in New York; a Backstage download of 3 March.
  Landing reports min_date 2 March (the UTC day of the new logs), one day after R1's day.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.defs.dbt import dbt_build_args
from orchestration.lib.core.warehouse import connect
from tests.dbt_runner import failures

T0 = datetime(2026, 3, 2, 4, 30)  # R1 starts: 1 March 23:30 in New York
R1, R2 = "7300000000000000001", "7300000000000000002"


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _lineage(document_id: str, handle: str, exported_at: datetime, rows: list[dict]) -> list[dict]:
    return [
        {
            "document_id": document_id,
            "account_handle": handle,
            "export_date": exported_at.date(),
            "exported_at": exported_at,
            "source_row": i,
            **row,
        }
        for i, row in enumerate(rows, start=1)
    ]


class _Log:
    """The lines of one recording, numbered as the recorder numbers them."""

    def __init__(self, session_id: str, room_id: str):
        self.session_id, self.room_id, self.lines = session_id, room_id, []

    def add(self, kind, at: datetime, connection, msg_id=None, event_at: datetime | None = None, **fields) -> None:
        self.lines.append(
            {
                "session_id": self.session_id,
                "room_id": self.room_id,
                "connection_id": connection,
                "seq": len(self.lines) + 1,
                "event_type": kind,
                "received_at": at,
                "event_at": event_at or (at if msg_id else None),
                "msg_id": msg_id,
                **fields,
            }
        )


def _live_r1() -> _Log:
    log = _Log("s1", R1)
    log.add("session_start", _at(0), "c1", handle="alice")
    log.add("connect", _at(0), "c1")
    log.add("viewers", _at(0), "c1", "v1", viewer_count=10, total_user=10)
    log.add("like", _at(5), "c1", "l1", user_id="501", like_count=5, total_likes=5)
    log.add("join", _at(6), "c1", "j1", user_id="501")
    log.add("like", _at(20), "c1", "l2", user_id="502", like_count=10, total_likes=15)
    log.add("viewers", _at(600), "c1", "v2", viewer_count=40, total_user=70)
    comments = [("comment", _at(900 + 6 * i), f"m{i}", str(601 + i % 5)) for i in range(50)]
    for kind, at, msg_id, user in comments:
        log.add(kind, at, "c1", msg_id, user_id=user)
    log.add("disconnect", _at(1200), "c1", reason="connection_closed")
    log.add("connect", _at(1230), "c2")
    for i, (kind, at, msg_id, user) in enumerate(comments):  # replayed after the reconnect, TikTok's time kept
        log.add(kind, _at(1231 + i / 100), "c2", msg_id, event_at=at, user_id=user)
    for n in range(1, 11):  # a streak of 10 roses: one event per repeat, repeat_end on the last
        rose = dict(gift_id="5655", gift_name="Rose", gift_type=1, diamond_per_gift=1, group_id="g1")
        log.add("gift", _at(1300 + n), "c2", f"rose{n}", user_id="111", repeat_count=n, repeat_end=n == 10, **rose)
    galaxy = dict(gift_id="11046", gift_name="Galaxy", gift_type=2, diamond_per_gift=1000, repeat_count=1)
    log.add("gift", _at(1500), "c2", "galaxy", user_id="222", repeat_end=True, **galaxy)
    lion = dict(gift_id="6369", gift_name="Lion", gift_type=2, diamond_per_gift=500, repeat_count=1)
    log.add("gift", _at(1510), "c2", "lion", user_id="333", repeat_end=True, to_user_id="999", **lion)
    log.add("viewers", _at(1800), "c2", "v3", viewer_count=20, total_user=120)
    log.add("follow", _at(1810), "c2", "f1", user_id="701")
    log.add("follow", _at(1811), "c2", "f2", user_id="702")
    log.add("share", _at(1812), "c2", "sh1", user_id="701")
    log.add("like", _at(3000), "c2", "l3", user_id="503", like_count=3, total_likes=100)
    log.add("live_end", _at(3600), "c2", "end1", reason="stream_ended")
    log.add("disconnect", _at(3600), "c2", reason="live_end")
    log.add("session_end", _at(3600), "c2", ended_by="live_end")
    return log


def _live_r2() -> _Log:
    start = datetime(2026, 3, 2, 20, 0)
    log = _Log("s2", R2)
    log.add("session_start", start, "c1", handle="alice")
    log.add("viewers", start + timedelta(seconds=60), "c1", "r2v1", viewer_count=50, total_user=60)
    log.add("session_end", start + timedelta(hours=1), "c1", ended_by="interrupted")
    return log


def _backstage(period_end: str, rows: list[tuple]) -> list[dict]:
    end = pd.Timestamp(period_end)
    return [
        {
            "period_start": end.replace(day=1).date(),
            "period_end": end.date(),
            "creator_id": creator_id,
            "has_quit": creator_id is None,
            "creator_username": username,
            "diamonds": diamonds,
            "live_duration_s": duration,
            "valid_live_days": valid_days,
            "new_followers": followers,
            "live_streams": streams,
            "matches": matches,
        }
        for creator_id, username, diamonds, duration, valid_days, followers, streams, matches in rows
    ]


def _insert(con, table: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)  # noqa: F841 (read by DuckDB below)
    con.execute(f"insert into raw.{table} by name select * from frame")


def _fill(con) -> None:
    r1, r2 = _live_r1(), _live_r2()
    for doc, log, handle, end in (("d1", r1, "alice", _at(3600)), ("d2", r2, "alice", datetime(2026, 3, 2, 21))):
        _insert(con, "live_events", _lineage(doc, handle, end, log.lines))
    _insert(con, "live_sessions", _lineage("d1", "alice", _at(3600), [
        dict(session_id="s1", room_id=R1, handle="alice", started_at=_at(0), ended_at=_at(3600),
             ended_by="live_end", end_seen=True, connection_count=2, reconnects=1,
             events_written=len(r1.lines), session_source="sidecar"),
    ]))  # fmt: skip
    _insert(con, "live_sessions", _lineage("d2", "alice", datetime(2026, 3, 2, 21), [
        dict(session_id="s2", room_id=R2, handle="alice", started_at=datetime(2026, 3, 2, 20),
             ended_at=datetime(2026, 3, 2, 21), ended_by="interrupted", end_seen=False, connection_count=1,
             reconnects=0, events_written=3, session_source="log"),
    ]))  # fmt: skip
    _insert(con, "live_connections", _lineage("d1", "alice", _at(3600), [
        dict(session_id="s1", connection_id="c1", connected_at=_at(0), disconnected_at=_at(1200)),
        dict(session_id="s1", connection_id="c2", connected_at=_at(1230), disconnected_at=_at(3600)),
    ]))  # fmt: skip
    _insert(con, "live_connections", _lineage("d2", "alice", datetime(2026, 3, 2, 21), [
        dict(session_id="s2", connection_id="c1", connected_at=datetime(2026, 3, 2, 20),
             disconnected_at=datetime(2026, 3, 2, 21)),
    ]))  # fmt: skip
    # LIVE Center: alice's files for 2 March (days as printed)
    day, exported = datetime(2026, 3, 2).date(), datetime(2026, 3, 3, 9)
    for doc, table, row in (
        ("lc1", "live_center_activity", dict(live_count=1, live_duration_s=3600)),
        ("lc2", "live_center_viewers", dict(views=400, unique_viewers=300, avg_watch_time_s=61.5,
                                             top_viewer_count=90, avg_concurrent_viewers=35.5)),
        ("lc3", "live_center_engagement", dict(gifters=4, new_followers=7, viewers_commented=12, likes=500,
                                                shares=2)),
        ("lc4", "live_center_revenue", dict(diamonds=300)),
    ):  # fmt: skip
        _insert(con, table, _lineage(doc, "alice", exported, [{"metric_date": day, **row}]))
    # Backstage: the agency's month-to-date downloads (dropped under the agency's folder)
    downloads = [
        ("b1", "2026-02-27", [("7001", "alice", 1000, 36000, 8, 50, 10, 3), ("7002", "bob", 10, 3600, 1, 1, 1, 0)]),
        ("b2", "2026-02-28", [("7001", "alice", 1200, 39600, 9, 55, 11, 4), ("7002", "bob", 30, 7200, 2, 2, 2, 0)]),
        ("b3", "2026-03-01", [("7001", "alice", 100, 3600, 1, 5, 1, 0), (None, "bob", 5, 3600, 1, 0, 1, 0)]),
        ("b4", "2026-03-02", [("7001", "alice", 90, 7200, 2, 9, 2, 1), (None, "bob", 8, 7200, 2, 1, 2, 0),
                              (None, "carol", 40, 3600, 1, 3, 1, 0)]),
    ]  # fmt: skip
    for doc, end, rows in downloads:
        exported = datetime.fromisoformat(end) + timedelta(hours=15)
        _insert(con, "live_backstage_creators", _lineage(doc, "agency", exported, _backstage(end, rows)))
    # the 2 March file uploaded again (another receipt, a later download moment): changes nothing
    _insert(con, "live_backstage_creators", _lineage("b4-again", "agency", datetime(2026, 3, 2, 18),
                                                     _backstage("2026-03-02", downloads[3][2])))  # fmt: skip
    # alice's accounts.yml time zone, as her API pulls record it
    con.execute(
        """insert into raw.api_pulls (pull_id, account_handle, api, endpoint, purpose, timezone, pulled_at,
        status, landed_at) values ('p1', 'alice', 'display', 'user/info', 'daily', 'America/New_York',
        timestamp '2026-03-01 12:00:00', 'complete', timestamp '2026-03-01 12:00:01')"""
    )


def _fill_late(con) -> None:
    start, end = datetime(2026, 3, 2, 21, 10), datetime(2026, 3, 2, 21, 30)
    log = _Log("s3", R2)
    log.add("session_start", start, "c1", handle="alice")
    log.add("viewers", start + timedelta(seconds=30), "c1", "r2v2", viewer_count=80, total_user=150)
    doughnut = dict(gift_id="5879", gift_name="Doughnut", gift_type=2, diamond_per_gift=30, repeat_count=1)
    log.add("gift", start + timedelta(seconds=40), "c1", "dn1", user_id="777", repeat_end=True, **doughnut)
    log.add("session_end", end, "c1", ended_by="interrupted")
    _insert(con, "live_events", _lineage("d3", "alice", end, log.lines))
    _insert(con, "live_sessions", _lineage("d3", "alice", end, [
        dict(session_id="s3", room_id=R2, handle="alice", started_at=start, ended_at=end, ended_by="interrupted",
             end_seen=False, connection_count=1, reconnects=0, events_written=4, session_source="log"),
    ]))  # fmt: skip
    _insert(con, "live_connections", _lineage("d3", "alice", end, [
        dict(session_id="s3", connection_id="c1", connected_at=start, disconnected_at=end),
    ]))  # fmt: skip
    early = _Log("s4", R1)  # a second recorder, started before the first one
    early.add("session_start", T0 - timedelta(minutes=10), "k1", handle="alice")
    early.add("follow", T0 - timedelta(minutes=5), "k1", "f0", user_id="700")
    early.add("session_end", T0 + timedelta(minutes=5), "k1", ended_by="interrupted")
    _insert(con, "live_events", _lineage("d4", "alice", T0 + timedelta(minutes=5), early.lines))
    _insert(con, "live_sessions", _lineage("d4", "alice", T0 + timedelta(minutes=5), [
        dict(session_id="s4", room_id=R1, handle="alice", started_at=T0 - timedelta(minutes=10),
             ended_at=T0 + timedelta(minutes=5), ended_by="interrupted", end_seen=False, connection_count=1,
             reconnects=0, events_written=3, session_source="log"),
    ]))  # fmt: skip
    _insert(con, "live_connections", _lineage("d4", "alice", T0 + timedelta(minutes=5), [
        dict(session_id="s4", connection_id="k1", connected_at=T0 - timedelta(minutes=10),
             disconnected_at=T0 + timedelta(minutes=5)),
    ]))  # fmt: skip
    _insert(con, "live_backstage_creators", _lineage("b5", "agency", datetime(2026, 3, 3, 15), _backstage(
        "2026-03-03", [("7001", "alice", 150, 10800, 3, 12, 3, 1)])))  # fmt: skip


def _dbt(dbt, root: Path, *args: str):
    """One dbt command on the warehouse under `root`, with its target and logs there too; asserts it passed."""
    result = dbt.invoke(root / "data", list(args), root / "dbt_target")
    assert result.success, result.exception or failures(root / "dbt_target")


@pytest.fixture(scope="module")
def marts(tmp_path_factory, dbt):
    root = tmp_path_factory.mktemp("live_marts")
    with connect(root / "data" / "warehouse" / "pipeline.duckdb") as con:
        _fill(con)
    # the LIVE models' dbt unit tests (hand-computed fixtures in _*live*_unit_tests.yml) run with all the others
    # in the API marts' build (tests/api/test_api_marts.py), which asserts that every one of them passed. dim_accounts
    # reads every LIVE mart (and the Studio ones, empty here): built too, with the LIVE marts' relationships tests to
    # it; not those of the marts it does not read, not built here (cautious: a test whose every parent is selected)
    _dbt(dbt, root, "build", "--select", "+fct_live_sessions", "+fct_live_viewers_minutely", "+fct_live_gifts",
         "+fct_live_backstage_daily", "+fct_live_account_daily", "+dim_accounts", "--indirect-selection", "cautious",
         "--exclude-resource-type", "unit_test")  # fmt: skip
    results = json.loads((root / "dbt_target" / "run_results.json").read_text())["results"]
    assert not [r["unique_id"] for r in results if r["status"] not in ("success", "pass")]
    assert len([r for r in results if r["unique_id"].startswith("test.") and "live" in r["unique_id"]]) >= 10
    connection = duckdb.connect(str(root / "data" / "warehouse" / "pipeline.duckdb"), read_only=True)
    yield connection
    connection.close()


def _one(con, sql: str) -> dict:
    relation = con.execute(sql)
    rows = relation.fetchall()
    assert len(rows) == 1, rows
    return dict(zip([c[0] for c in relation.description], rows[0], strict=True))


def test_a_live_across_midnight_belongs_to_the_day_it_started_in_the_accounts_time_zone(marts):
    r1 = _one(marts, f"select * from marts.fct_live_sessions where room_id = '{R1}'")
    assert r1["account_handle"] == "alice" and r1["account_timezone"] == "America/New_York"
    # 04:30 UTC on 2 March is 23:30 on 1 March in New York (UTC-5)
    assert r1["metric_date"].isoformat() == "2026-03-01"
    assert (r1["started_at"], r1["ended_at"], r1["duration_s"]) == (_at(0), _at(3600), 3600.0)
    assert (r1["end_reason"], r1["end_seen"]) == ("stream_ended", True)


def test_session_figures_worked_out_by_hand(marts):
    r1 = _one(marts, f"select * from marts.fct_live_sessions where room_id = '{R1}'")
    # viewers: 10 for 600 s, 40 for 1200 s, 20 for 1800 s -> (6000 + 48000 + 36000) / 3600 = 25 (plain mean: 23.3)
    assert (r1["peak_viewers"], r1["avg_viewers"], r1["total_viewers"], r1["viewer_samples"]) == (40, 25.0, 120, 3)
    # hearts: the highest running total, 100; the like events that arrived add up to 5 + 10 + 3 = 18
    assert r1["hearts"] == 100
    # 50 comments from viewers 601..605; their 50 replays after the reconnect change nothing
    assert (r1["comments"], r1["commenters"]) == (50, 5)
    assert (r1["follows"], r1["shares"], r1["joins"]) == (2, 1, 1)
    # 10 roses x 1 (not 1 + 2 + ... + 10 = 55) + Galaxy 1000; the Lion went to the battle guest
    assert (r1["gifts"], r1["gifters"], r1["diamonds"], r1["diamonds_to_guests"]) == (11, 2, 1010, 500)
    assert (r1["diamonds_per_hour"], r1["diamonds_usd"]) == (1010.0, None)  # no diamond_usd_rate: no money figure
    assert (r1["top_gifter_user_id"], r1["top_gifter_diamonds"]) == ("222", 1000)
    # one gap of 30 s between c1 (until 04:50:00) and c2 (from 04:50:30): 3570 / 3600 covered
    assert (r1["recordings"], r1["reconnects"], r1["gap_count"], r1["gap_s"]) == (1, 1, 1, 30.0)
    assert r1["coverage"] == pytest.approx(3570 / 3600)
    r2 = _one(marts, f"select * from marts.fct_live_sessions where room_id = '{R2}'")
    # the recorder was stopped (Ctrl-C) before the LIVE ended; one sample of 50 held for 59 minutes
    assert (r2["metric_date"].isoformat(), r2["end_reason"], r2["end_seen"]) == ("2026-03-02", "interrupted", False)
    assert (r2["peak_viewers"], r2["avg_viewers"], r2["hearts"], r2["diamonds"]) == (50, 50.0, 0, 0)


def test_gifts_are_one_row_per_completed_send(marts):
    rows = marts.execute(
        f"""select gift_name, user_id, to_user_id, is_to_host, is_streak, repeat_count, diamonds, is_complete,
        streak_events, sent_at from marts.fct_live_gifts where room_id = '{R1}' order by sent_at"""
    ).fetchall()
    assert rows == [
        ("Rose", "111", None, True, True, 10, 10, True, 10, _at(1310)),
        ("Galaxy", "222", None, True, False, 1, 1000, True, 1, _at(1500)),
        ("Lion", "333", "999", False, False, 1, 500, True, 1, _at(1510)),
    ]


def test_viewer_minutes(marts):
    rows = marts.execute(
        f"""select minute_at, viewers_last, viewers_min, viewers_max, viewers_avg, viewer_samples, has_no_sample,
        hearts, comments, gifts, diamonds, follows, joins
        from marts.fct_live_viewers_minutely where room_id = '{R1}' order by minute_at"""
    ).fetchall()
    # 04:30 .. 05:30: the end falls on a minute boundary, so the minute 05:30 holds the LIVE's last instant
    assert len(rows) == 61
    by_minute = {row[0]: row[1:] for row in rows}
    # 04:30: sample 10 at :00; hearts 5 then 15 (running totals), 1 join
    assert by_minute[_at(0)] == (10, 10, 10, 10.0, 1, False, 15, 0, 0, 0, 0, 1)
    # 04:31: no sample, 10 carried
    assert by_minute[_at(60)] == (10, 10, 10, 10.0, 0, True, 0, 0, 0, 0, 0, 0)
    # 04:40: sample 40 at :00; 04:45: comments at 900, 906, ... 954 s -> 10 in the minute (the replays do not count)
    assert by_minute[_at(600)][:6] == (40, 40, 40, 40.0, 1, False)
    assert by_minute[_at(900)][7] == 10
    # 04:51: the rose streak completes at 04:51:50 (10 gifts, 10 diamonds)
    assert by_minute[_at(1260)][8:10] == (10, 10)
    # 04:55: the Galaxy (1000); the Lion to the guest is not the host's
    assert by_minute[_at(1500)][8:10] == (1, 1000)
    # 05:20: the like event with total 100 (85 hearts since 15)
    assert by_minute[_at(3000)][6] == 85
    # every minute adds up to the LIVE
    totals = marts.execute(
        f"""select sum(hearts), sum(comments), sum(gifts), sum(diamonds), sum(follows), sum(joins),
        count(*) filter (where has_no_sample) from marts.fct_live_viewers_minutely where room_id = '{R1}'"""
    ).fetchone()
    assert totals == (100, 50, 11, 1010, 2, 1, 58)


def test_backstage_deltas(marts):
    rows = marts.execute(
        """select creator_key, creator_id, creator_username, has_quit, metric_date::varchar, days_covered,
        counters_reset, is_restated, diamonds_mtd, diamonds_delta, live_duration_delta_s, valid_live_days_delta,
        new_followers_delta, live_streams_delta, matches_delta
        from marts.fct_live_backstage_daily order by creator_key, metric_date"""
    ).fetchall()
    assert rows == [
        # alice: the first download of February is its own delta over 27 days
        ("7001", "7001", "alice", False, "2026-02-27", 27, True, False, 1000, 1000, 36000, 8, 50, 10, 3),
        ("7001", "7001", "alice", False, "2026-02-28", 1, False, False, 1200, 200, 3600, 1, 5, 1, 1),
        # 1 March: the counters reset, the snapshot is its own delta
        ("7001", "7001", "alice", False, "2026-03-01", 1, True, False, 100, 100, 3600, 1, 5, 1, 0),
        # 2 March: diamonds went down (100 -> 90): restated, the delta stays negative
        ("7001", "7001", "alice", False, "2026-03-02", 1, False, True, 90, -10, 3600, 1, 4, 1, 1),
        # bob quit on 1 March: kept under his id through his username
        ("7002", "7002", "bob", False, "2026-02-27", 27, True, False, 10, 10, 3600, 1, 1, 1, 0),
        ("7002", "7002", "bob", False, "2026-02-28", 1, False, False, 30, 20, 3600, 1, 1, 1, 0),
        ("7002", "7002", "bob", True, "2026-03-01", 1, True, False, 5, 5, 3600, 1, 0, 1, 0),
        ("7002", "7002", "bob", True, "2026-03-02", 1, False, False, 8, 3, 3600, 1, 1, 1, 0),
        # carol quit before any download listed her id: kept by username
        ("@carol", None, "carol", True, "2026-03-02", 2, True, False, 40, 40, 3600, 1, 3, 1, 0),
    ]


def test_account_daily_takes_one_source_per_day_and_names_it(marts):
    rows = marts.execute(
        """select account_handle, metric_date::varchar, figures_source, lives, minutes_live, peak_viewers, hearts,
        diamonds, new_followers, log_lives, log_diamonds, live_center_diamonds, backstage_diamonds
        from marts.fct_live_account_daily order by account_handle, metric_date"""
    ).fetchall()
    assert rows == [
        # alice's days are New York's: Backstage's UTC days are not hers (a LIVE after her midnight would sit on two
        # days, review), so none of her rows takes or shows them (fct_live_backstage_daily has them).
        # 1 March: R1, from the log
        ("alice", "2026-03-01", "event_log", 1, 60.0, 40, 100, 1010, 2, 1, 1010, None, None),
        # 2 March: LIVE Center covers the day (TikTok's own count); R2 beside it
        ("alice", "2026-03-02", "live_center", 1, 60.0, 90, 500, 300, 7, 1, 0, 300, None),
        # bob has no zone but the default, UTC: Backstage's days are his. 28 Feb: a one-day delta (27 Feb's covers
        # 27 days: no day's figure)
        ("bob", "2026-02-28", "backstage", 1, 60.0, None, None, 20, 1, None, None, None, 20),
        ("bob", "2026-03-01", "backstage", 1, 60.0, None, None, 5, 0, None, None, None, 5),
        ("bob", "2026-03-02", "backstage", 1, 60.0, None, None, 3, 1, None, None, None, 3),
    ]


def test_every_handle_of_the_live_marts_is_an_account_and_backstage_only_creators_are_told_apart(marts, dbt_manifest):
    """A BI user's join of a LIVE mart to dim_accounts keeps every row (a review found 54 % of the demo's
    fct_live_account_daily rows without an account): alice went LIVE (her logs and LIVE Center files are her own
    data); bob and carol are only rows of the agency's Backstage downloads, so nothing but their handle is known."""
    handles = {
        "fct_live_sessions": "account_handle",
        "fct_live_viewers_minutely": "account_handle",
        "fct_live_gifts": "account_handle",
        "fct_live_backstage_daily": "creator_handle",
        "fct_live_account_daily": "account_handle",
    }
    # dbt holds it too: each mart's relationships test to dim_accounts (run, and passed, by the module's build)
    tests = json.loads(dbt_manifest.read_text())["nodes"].values()
    related = {
        (t["attached_node"].rsplit(".", 1)[1], t["column_name"])
        for t in tests
        if t["resource_type"] == "test"
        and (t.get("test_metadata") or {}).get("name") == "relationships"
        and "model.tiktok_warehouse.dim_accounts" in t["depends_on"]["nodes"]
    }
    assert set(handles.items()) <= related
    for mart, column in handles.items():
        rows, orphans = marts.execute(
            f"""select count(*), count(*) filter (where a.account_handle is null)
            from marts.{mart} m left join marts.dim_accounts a on a.account_handle = m.{column}"""
        ).fetchone()
        assert rows and not orphans, mart
    # fct_live_account_daily: alice's 2 days and bob's 3 (see the test above) = 5 rows; all joined
    joined = "select count(*) from marts.fct_live_account_daily join marts.dim_accounts using (account_handle)"
    assert marts.execute(joined).fetchone() == (5,)
    accounts = marts.execute(
        """select account_handle, known_from, first_metric_date, latest_followers, videos_seen, last_export_date,
        documents_loaded, documents_quarantined from marts.dim_accounts order by account_handle"""
    ).fetchall()
    assert accounts == [
        ("alice", "account_exports", None, None, 0, None, 0, 0),  # no raw.documents rows in this warehouse
        ("bob", "live_backstage", None, None, 0, None, 0, 0),
        ("carol", "live_backstage", None, None, 0, None, 0, 0),
    ]


LIVE_MARTS = ("fct_live_sessions", "fct_live_viewers_minutely", "fct_live_gifts", "fct_live_backstage_daily",
              "fct_live_account_daily")  # fmt: skip


def _live_marts(database: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {m: con.execute(f"select * from marts.{m} order by all").fetchall() for m in LIVE_MARTS}


def test_a_later_recording_of_a_live_rebuilds_it_incrementally_as_a_full_refresh_would(tmp_path, dbt):
    database = tmp_path / "data" / "warehouse" / "pipeline.duckdb"
    select = ["--select", *(f"+{m}" for m in LIVE_MARTS)]
    with connect(database) as con:
        _fill(con)
    # `dbt run` (the models only: the module fixture's build runs their tests) with the production build's vars
    _dbt(dbt, tmp_path, "run", *dbt_build_args(None)[1:3], *select)
    with connect(database) as con:
        _fill_late(con)
    # what the daily job runs after landing them: incrementals from min_date (R2's new log starts on 2 March)
    _dbt(dbt, tmp_path, "run", *dbt_build_args(date(2026, 3, 2))[1:3], *select)
    incremental = _live_marts(database)
    _dbt(dbt, tmp_path, "run", "--full-refresh", *select)
    assert incremental == _live_marts(database)
    with duckdb.connect(str(database), read_only=True) as con:
        r2 = _one(con, f"select * from marts.fct_live_sessions where room_id = '{R2}'")
        daily = dict(
            (row[0].isoformat(), row[1:])
            for row in con.execute(
                """select metric_date, figures_source, minutes_live, new_followers, diamonds, log_minutes_live,
                log_diamonds from marts.fct_live_account_daily where account_handle = 'alice'"""
            ).fetchall()
        )
        r1 = _one(con, f"select * from marts.fct_live_sessions where room_id = '{R1}'")
        first_minute = con.execute(f"select min(minute_at) from marts.fct_live_viewers_minutely where room_id = '{R1}'")
        first_minute = first_minute.fetchone()[0]
    # R2 now runs 20:00 -> 21:30 (5400 s) over two recordings, with a gap 21:00 -> 21:10 (600 s)
    assert (r2["ended_at"], r2["duration_s"], r2["recordings"], r2["gap_count"], r2["gap_s"]) == (
        datetime(2026, 3, 2, 21, 30), 5400.0, 2, 1, 600.0)  # fmt: skip
    assert r2["coverage"] == pytest.approx(1 - 600 / 5400)
    # viewers: 50 from 20:01 to 21:10:30 (4170 s), then 80 until 21:30 (1170 s) -> 302100 / 5340
    assert (r2["peak_viewers"], r2["diamonds"], r2["top_gifter_user_id"]) == (80, 30, "777")
    assert r2["avg_viewers"] == pytest.approx((50 * 4170 + 80 * 1170) / 5340)
    # R1 now starts 10 minutes earlier (23:20 on 1 March in New York): 4200 s, one more follow, minutes from 04:20
    assert (r1["metric_date"].isoformat(), r1["started_at"], r1["duration_s"], r1["follows"], r1["gap_s"]) == (
        "2026-03-01", T0 - timedelta(minutes=10), 4200.0, 3, 30.0)  # fmt: skip
    assert first_minute == T0 - timedelta(minutes=10)
    # 1 March (a day before min_date) was recomputed from R1: 70 minutes, 3 follows. 2 March keeps LIVE Center's
    # figures; the log's beside them now count R2's second recording (90 minutes, 30 diamonds). Backstage's UTC days
    # (28 Feb, 3 March) are not alice's New York days
    assert daily == {
        "2026-03-01": ("event_log", 70.0, 3, 1010, 70.0, 1010),
        "2026-03-02": ("live_center", 60.0, 7, 300, 90.0, 30),
    }


R3 = "7300000000000000003"


def _recording(con, document: str, session: str, start: datetime, end: datetime, gift: bool) -> None:
    """One recording of LIVE R3 (alice) as landing writes it: its events, its session and its connection."""
    log = _Log(session, R3)
    log.add("session_start", start, "c1", handle="alice")
    log.add("viewers", start + timedelta(seconds=30), "c1", f"{session}v", viewer_count=5, total_user=5)
    if gift:
        galaxy = dict(gift_id="11046", gift_name="Galaxy", gift_type=2, diamond_per_gift=100, repeat_count=1)
        log.add("gift", start + timedelta(seconds=60), "c1", f"{session}g", user_id="222", repeat_end=True, **galaxy)
    log.add("session_end", end, "c1", ended_by="interrupted")
    _insert(con, "live_events", _lineage(document, "alice", end, log.lines))
    _insert(con, "live_sessions", _lineage(document, "alice", end, [
        dict(session_id=session, room_id=R3, handle="alice", started_at=start, ended_at=end, ended_by="interrupted",
             end_seen=False, connection_count=1, reconnects=0, events_written=len(log.lines), session_source="log"),
    ]))  # fmt: skip
    _insert(con, "live_connections", _lineage(document, "alice", end, [
        dict(session_id=session, connection_id="c1", connected_at=start, disconnected_at=end),
    ]))  # fmt: skip


def test_a_live_moved_to_the_day_before_or_withdrawn_leaves_no_row_behind(tmp_path, dbt):
    """LIVE R3 first recorded from 00:10 on 5 March in New York (05:10 UTC): its day is 5 March. A second recorder's
    log of it began at 23:50 on 4 March (04:50 UTC): its day is now 4 March, and 5 March has no LIVE of alice's.
    Meanwhile R2's only recording is withdrawn (as a damaged sidecar dropped later quarantines its log). The
    incremental build (min_date 5 March, the new log's UTC day) must equal a full refresh: delete+insert by key alone
    kept 5 March (two LIVEs, 200 diamonds for one LIVE of 100) and R2's session, gifts and minutes."""
    database = tmp_path / "data" / "warehouse" / "pipeline.duckdb"
    select = ["--select", *(f"+{m}" for m in LIVE_MARTS)]
    with connect(database) as con:
        _fill(con)
        _recording(con, "r3a", "s5", datetime(2026, 3, 5, 5, 10), datetime(2026, 3, 5, 6, 0), gift=True)
    _dbt(dbt, tmp_path, "run", *dbt_build_args(None)[1:3], *select)
    with connect(database) as con:
        _recording(con, "r3b", "s6", datetime(2026, 3, 5, 4, 50), datetime(2026, 3, 5, 5, 20), gift=False)
        for table in ("live_events", "live_sessions", "live_connections"):
            con.execute(f"delete from raw.{table} where document_id = 'd2'")
    _dbt(dbt, tmp_path, "run", *dbt_build_args(date(2026, 3, 5))[1:3], *select)
    incremental = _live_marts(database)
    with duckdb.connect(str(database), read_only=True) as con:
        days = con.execute(
            """select metric_date::varchar, figures_source, lives, diamonds, log_lives, log_diamonds
            from marts.fct_live_account_daily where account_handle = 'alice' and metric_date >= '2026-03-02'
            order by 1"""
        ).fetchall()
        rooms = {
            mart: [r[0] for r in con.execute(f"select distinct room_id from marts.{mart} order by 1").fetchall()]
            for mart in ("fct_live_sessions", "fct_live_gifts", "fct_live_viewers_minutely")
        }
    # 2 March keeps LIVE Center's figures, without R2's log beside them; R3 (70 minutes, 04:50 -> 06:00 UTC) on 4 March
    assert days == [
        ("2026-03-02", "live_center", 1, 300, None, None),
        ("2026-03-04", "event_log", 1, 100, 1, 100),
    ]
    assert rooms == {
        "fct_live_sessions": [R1, R3],
        "fct_live_gifts": [R1, R3],
        "fct_live_viewers_minutely": [R1, R3],
    }
    _dbt(dbt, tmp_path, "run", "--full-refresh", *select)
    assert incremental == _live_marts(database)


def test_a_withdrawn_later_recording_of_a_live_keeps_the_rest_of_it(tmp_path, dbt):
    """R3 recorded twice: 22:00 -> 23:50 UTC on 5 March (a 100-diamond gift), then 23:55 -> 00:30. The second log
    is withdrawn: R3 now ends on 5 March. The landing's window for a withdrawn log is the day before its first day
    (4 March): R3 is recomputed whole, its gift and minutes stay, and incremental equals a full refresh."""
    database = tmp_path / "data" / "warehouse" / "pipeline.duckdb"
    select = ["--select", *(f"+{m}" for m in LIVE_MARTS)]
    with connect(database) as con:
        _fill(con)
        _recording(con, "r3a", "s5", datetime(2026, 3, 5, 22, 0), datetime(2026, 3, 5, 23, 50), gift=True)
        _recording(con, "r3b", "s6", datetime(2026, 3, 5, 23, 55), datetime(2026, 3, 6, 0, 30), gift=False)
    _dbt(dbt, tmp_path, "run", *dbt_build_args(None)[1:3], *select)
    with connect(database) as con:
        for table in ("live_events", "live_sessions", "live_connections"):
            con.execute(f"delete from raw.{table} where document_id = 'r3b'")
    _dbt(dbt, tmp_path, "run", *dbt_build_args(date(2026, 3, 4))[1:3], *select)
    incremental = _live_marts(database)
    with duckdb.connect(str(database), read_only=True) as con:
        r3 = _one(con, f"select * from marts.fct_live_sessions where room_id = '{R3}'")
        gifts = con.execute(f"select count(*) from marts.fct_live_gifts where room_id = '{R3}'").fetchone()[0]
    assert (r3["ended_at"], r3["recordings"], r3["diamonds"], gifts) == (datetime(2026, 3, 5, 23, 50), 1, 100, 1)
    _dbt(dbt, tmp_path, "run", "--full-refresh", *select)
    assert incremental == _live_marts(database)


def test_a_live_known_from_events_only_survives_a_later_unrelated_build(tmp_path, dbt):
    """A recording whose log holds a second room (the creator went LIVE again; flagged one_room_per_session, kept):
    its session names the first room only, the second is a LIVE from its events. A later build whose window does
    not reach it must keep it, its gift and its minutes (a first version of the rooms' pre_hook deleted them)."""
    r4, start = "7300000000000000004", datetime(2026, 3, 5, 20, 0)
    database = tmp_path / "data" / "warehouse" / "pipeline.duckdb"
    select = ["--select", *(f"+{m}" for m in LIVE_MARTS)]
    with connect(database) as con:
        _fill(con)
        log = _Log("s7", R3)
        log.add("session_start", start, "c1", handle="alice")
        log.add("viewers", start + timedelta(seconds=30), "c1", "a1", viewer_count=5, total_user=5)
        log.room_id = r4
        galaxy = dict(gift_id="11046", gift_name="Galaxy", gift_type=2, diamond_per_gift=100, repeat_count=1)
        log.add("gift", start + timedelta(minutes=41), "c1", "b2", user_id="222", repeat_end=True, **galaxy)
        log.add("session_end", start + timedelta(minutes=50), "c1", ended_by="interrupted")
        end = start + timedelta(minutes=50)
        _insert(con, "live_events", _lineage("d7", "alice", end, log.lines))
        _insert(con, "live_sessions", _lineage("d7", "alice", end, [
            dict(session_id="s7", room_id=R3, handle="alice", started_at=start, ended_at=end, ended_by="interrupted",
                 end_seen=False, connection_count=1, reconnects=0, events_written=len(log.lines), session_source="log"),
        ]))  # fmt: skip
    _dbt(dbt, tmp_path, "run", *dbt_build_args(None)[1:3], *select)
    before = _live_marts(database)
    assert r4 in {row[1] for row in before["fct_live_gifts"]}  # account_handle, room_id, ...
    _dbt(dbt, tmp_path, "run", *dbt_build_args(date(2026, 3, 9))[1:3], *select)  # nothing new before 9 March
    assert _live_marts(database) == before


def test_a_creator_who_quit_keyed_by_username_then_by_an_older_downloads_id_leaves_no_row_behind(tmp_path, dbt):
    """dave quit before the agency's first downloads (keyed `@dave`), then an older download naming his id lands: his
    rows are keyed by the id from then on. The incremental mart kept the `@dave` rows beside them: his days counted
    twice (review). It is a table now: incremental runs end where a full refresh does."""
    database = tmp_path / "data" / "warehouse" / "pipeline.duckdb"
    select = ["--select", "+fct_live_backstage_daily"]
    with connect(database) as con:
        for doc, end, diamonds in (("q1", "2026-03-01", 50), ("q2", "2026-03-02", 80)):
            rows = _backstage(end, [(None, "dave", diamonds, 3600, 1, 0, 1, 0)])
            _insert(con, "live_backstage_creators", _lineage(doc, "agency", datetime.fromisoformat(end), rows))
    _dbt(dbt, tmp_path, "run", *dbt_build_args(None)[1:3], *select)
    with connect(database) as con:
        rows = _backstage("2026-02-28", [("7004", "dave", 900, 3600, 1, 0, 1, 0)])
        _insert(con, "live_backstage_creators", _lineage("q0", "agency", datetime(2026, 2, 28, 20), rows))
    _dbt(dbt, tmp_path, "run", *dbt_build_args(date(2026, 2, 28))[1:3], *select)
    query = "select creator_key, metric_date::varchar, diamonds_delta from marts.fct_live_backstage_daily order by all"
    with duckdb.connect(str(database), read_only=True) as con:
        incremental = con.execute(query).fetchall()
    assert incremental == [("7004", "2026-02-28", 900), ("7004", "2026-03-01", 50), ("7004", "2026-03-02", 30)]
    _dbt(dbt, tmp_path, "run", "--full-refresh", *select)
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute(query).fetchall() == incremental
