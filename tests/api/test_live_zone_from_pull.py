"""A LIVE time zone that arrives with an API pull (accounts.yml's `timezone`) moves the account's older LIVEs to
their new days, as a full refresh does: the zone is data, which no var digest sees, and the LIVE marts recompute only
the LIVEs that ended from the build window on (review: a LIVE kept its UTC day after a pull named Los Angeles).

The LIVE: techcreator's log of 2026-04-10 03:00:00-03:00:21 UTC (the STREAM of test_live_readers, moved), which is
20:00 on 9 April in Los Angeles (PDT, UTC-7). Built first with the default zone (UTC: 10 April); the pull on
3 May then names America/Los_Angeles, and its build window (3 May) holds no LIVE."""

from __future__ import annotations

import json
from datetime import date, datetime

import dagster as dg
import duckdb
import pytest

from orchestration.defs.dbt import dbt_project, plan_dbt_build
from orchestration.lib.api.landing import pull_account
from orchestration.lib.core.dbt_selection import moved_live_zones
from orchestration.lib.core.warehouse import connect
from orchestration.lib.live.landing import LiveSource
from orchestration.lib.studio.landing import land_inbox
from tests.dbt_runner import mart_tables, planned_build
from tests.live.test_live_readers import ROOM, STREAM, jsonl
from tests.live.test_live_readers import T0 as STREAM_T0
from tests.studio_fixtures import drop

from .conftest import T0, setup_display

LIVE_AT = datetime(2026, 4, 10, 3, 0)
_SHIFT_MS = STREAM_T0 - int((LIVE_AT - datetime(1970, 1, 1)).total_seconds() * 1000)


def _log() -> bytes:
    """STREAM as techcreator's, started at LIVE_AT."""
    lines = []
    for line in STREAM:
        moved = {**line, "received_at_ms": line["received_at_ms"] - _SHIFT_MS}
        if line["timestamp_ms"] is not None:
            moved["timestamp_ms"] = line["timestamp_ms"] - _SHIFT_MS
        lines.append({**moved, "handle": "techcreator"} if "handle" in line else moved)
    return jsonl(*lines)


def _day(paths) -> tuple[date, str]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        sql = f"select metric_date, account_timezone from marts.fct_live_sessions where room_id = '{ROOM}'"
        return con.execute(sql).fetchone()


def test_a_zone_an_api_pull_brings_moves_older_lives_as_a_full_refresh_would(fake, paths, tmp_path, dbt):
    target = tmp_path / "target"
    drop(paths, "techcreator/live/techcreator_live.jsonl", _log())
    with connect(paths.warehouse) as con:
        assert moved_live_zones(con) == []  # nothing built yet: nothing to compare
        land_inbox(paths, con, sources=[LiveSource()])
    first = planned_build(paths, dbt, target)
    assert "--full-refresh" not in first.args  # a first build compares with nothing
    assert _day(paths) == (date(2026, 4, 10), "UTC")

    config, _ = setup_display(fake, paths, videos=2, timezone="America/Los_Angeles")
    with connect(paths.warehouse) as con:
        account = config.account("techcreator")
        result = pull_account(paths, con, config, account, now=lambda: T0, sleep=lambda s: None)
        assert result.status == "complete", result.reason
        # the var wins over a pull: an account it names is left out
        assert moved_live_zones(con, ["techcreator"]) == []
        manifest = json.loads(dbt_project().manifest_path.read_text())
        with pytest.raises(dg.Failure, match="LIVE time zone changed with an API pull"):
            plan_dbt_build(con, manifest, full_refresh=False, subset=True)  # assets picked in the UI
    build = planned_build(paths, dbt, target)
    assert _day(paths) == (date(2026, 4, 9), "America/Los_Angeles")  # 20:00 on 9 April in Los Angeles
    built = mart_tables(paths, "fct_live_%")
    assert built["fct_live_gifts"] and built["fct_live_viewers_minutely"] and built["fct_live_account_daily"]
    planned_build(paths, dbt, target, full_refresh=True)
    assert mart_tables(paths, "fct_live_%") == built
    # told in the run's log: "... the whole project, because <reason>"
    assert "--full-refresh" in build.args
    assert "@techcreator from UTC to America/Los_Angeles" in build.reason

    # the marts now use the pull's zone: the next build is no full refresh again
    with connect(paths.warehouse) as con:
        assert moved_live_zones(con) == []
        assert "--full-refresh" not in plan_dbt_build(con, manifest, full_refresh=False, subset=False).args
