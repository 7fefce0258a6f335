"""The run summary's "Latest LIVE per account", read from the published fct_live_sessions (a view, as in the
BI catalog). Expected lines worked out by hand."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.cli_summary import print_latest_lives

SESSIONS = """
create table sessions as select * from (values
    ('techcreator', '7601', timestamp '2026-01-31 02:55:36', 'America/New_York', 4851.2, 199, 28245, 3961),
    ('techcreator', '7606', timestamp '2026-02-15 00:19:40', 'America/New_York', 3153.0, 189, 12632, 985),
    ('maria.cocina', '7602', timestamp '2026-02-01 22:18:10', 'Europe/Madrid', 6704.0, 129, 27180, 974),
    ('le_petit_chef', '7607', timestamp '2026-02-15 19:23:17', null, 2950.0, null, 0, 0)
) as t(account_handle, room_id, started_at, account_timezone, duration_s, peak_viewers, hearts, diamonds);
create view fct_live_sessions as select * from sessions;
"""


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def test_the_latest_live_of_each_account_in_its_time_zone(con, capsys):
    con.execute(SESSIONS)
    print_latest_lives(con)
    assert capsys.readouterr().out.splitlines() == [
        "Latest LIVE per account (start in the account's time zone):",
        # 2950 s = 49 min; no zone known: UTC; no viewer sample: the peak is unknown, not 0
        "  @le_petit_chef      2026-02-15 19:23 UTC                  49m  peak ? viewers  0 hearts  0 diamonds",
        # 22:18 UTC is 23:18 in Madrid (UTC+1 in February); 6704 s = 111 min
        "  @maria.cocina       2026-02-01 23:18 Europe/Madrid     1h 51m  peak 129 viewers"
        "  27,180 hearts  974 diamonds",
        # the later of two LIVEs: 00:19 UTC on the 15th is 19:19 on the 14th in New York (UTC-5); 3153 s = 52 min
        "  @techcreator        2026-02-14 19:19 America/New_York     52m  peak 189 viewers"
        "  12,632 hearts  985 diamonds",
    ]


def test_no_live_mart_or_an_empty_one_prints_nothing(con, capsys):
    print_latest_lives(con)  # no fct_live_sessions at all (a warehouse without LIVE inputs)
    con.execute(SESSIONS + "delete from sessions;")
    print_latest_lives(con)
    assert capsys.readouterr().out == ""
