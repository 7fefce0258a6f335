"""LIVE on the account page: the daily figures of fct_live_account_daily (LIVE Center, event logs, Backstage) beside
the recorded sessions of fct_live_sessions. Marts made by hand; the browser checks are in
tests/test_report_browser.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from orchestration.lib.report import build_report

NO_SESSION = "No recorded LIVE session"
NO_DATA = '<p class="nodata" id="nodata-live">No data yet.</p>'


def write_live_marts(marts: Path) -> Path:
    """Three accounts, none with a recorded LIVE (fct_live_sessions is published, empty):

    - centre: LIVE Center only, 2026-02-16..18: 1, 0 and 2 LIVEs, 45.5, 0 and 130 minutes, peak viewers 292, 0,
      261; no revenue file, so no diamonds;
    - relay: Backstage days only, 2026-02-17..18: 1 LIVE each, 60 and 90 minutes, 120 and 300 diamonds, 4 and 6 new
      followers, no viewers (Backstage has none);
    - quiet: follower figures only, no LIVE at all.
    """
    marts.mkdir(parents=True, exist_ok=True)
    tables = {
        "dim_accounts": """select * from (values
            ('centre', null::date, null::date, null::bigint, null::date, 0, null::date,
             date '2026-02-19', date '2026-02-19', 2, 0),
            ('quiet', date '2026-02-17', date '2026-02-18', 500, date '2026-02-18', 0, null::date,
             date '2026-02-19', date '2026-02-19', 1, 0),
            ('relay', null::date, null::date, null::bigint, null::date, 0, null::date,
             date '2026-02-19', date '2026-02-19', 2, 0))
            t(account_handle, first_metric_date, last_metric_date, latest_followers, latest_followers_date,
              videos_seen, last_video_snapshot_date, first_export_date, last_export_date, documents_loaded,
              documents_quarantined)""",
        "fct_follower_growth_daily": """select * from (values
            ('quiet', date '2026-02-17', 490, null::bigint, null::bigint, null::bigint),
            ('quiet', date '2026-02-18', 500, 10, null, null))
            t(account_handle, metric_date, followers, net_follower_change, net_follower_change_7d,
              net_follower_change_28d)""",
        "fct_live_account_daily": """select * from (values
            ('centre', date '2026-02-16', 'live_center', 1, 45.5, 292, null::bigint, null::bigint, null::double,
             null::bigint),
            ('centre', date '2026-02-17', 'live_center', 0, 0.0, 0, null, null, null, null),
            ('centre', date '2026-02-18', 'live_center', 2, 130.0, 261, null, null, null, null),
            ('relay', date '2026-02-17', 'backstage', 1, 60.0, null, null, 120, 0.6, 4),
            ('relay', date '2026-02-18', 'backstage', 1, 90.0, null, null, 300, 1.5, 6))
            t(account_handle, metric_date, figures_source, lives, minutes_live, peak_viewers, hearts, diamonds,
              diamonds_usd, new_followers)""",
        "fct_live_sessions": """select 'centre' as account_handle, date '2026-02-16' as metric_date,
            timestamp '2026-02-16 20:00:00' as started_at, 1800 as duration_s, 40 as peak_viewers,
            'UTC' as account_timezone
            where false""",
    }
    for name, sql in tables.items():
        duckdb.execute(f"copy ({sql}) to '{marts / name}.parquet' (format parquet)")
    return marts


def _page(marts: Path, handle: str) -> str:
    return (marts / "report" / "accounts" / f"{handle}.html").read_text()


def _figure(html: str, name: str) -> dict:
    return json.loads(html.split(f'<script type="application/json" id="figure-{name}">', 1)[1].split("</script>")[0])


def test_live_center_days_are_drawn_per_day_and_no_session_is_said_to_be_recorded(tmp_path):
    marts = write_live_marts(tmp_path / "marts")
    build_report(marts)
    centre = _page(marts, "centre")
    minutes, line = _figure(centre, "live_daily")["data"]
    assert minutes["x"] == line["x"] == ["2026-02-16", "2026-02-17", "2026-02-18"]
    assert minutes["y"] == [45.5, 0.0, 130.0]
    assert (line["name"], line["y"], line["yaxis"]) == ("peak viewers", [292, 0, 261], "y2")
    assert line["mode"] == "markers"  # a line drew peak viewers across the weeks between two LIVE days
    # each day's hover names where its figures come from
    assert minutes["customdata"] == [
        "1 LIVE(s) · from LIVE Center", "0 LIVE(s) · from LIVE Center", "2 LIVE(s) · from LIVE Center"
    ]  # fmt: skip
    layout = _figure(centre, "live_daily")["layout"]
    # peak viewers 0 … 292 and minutes 0 … 130: whole-number axes, plotly's own steps; 3 days ticked by day
    assert {k: layout["yaxis2"][k] for k in ("overlaying", "tickformat", "rangemode")} == {
        "overlaying": "y", "tickformat": ",d", "rangemode": "tozero"
    }  # fmt: skip
    assert layout["xaxis"] == {"type": "date", "dtick": 86_400_000}
    sessions = centre[centre.index("<h2>LIVE sessions</h2>") :]
    assert f'<p class="nodata" id="nodata-live">{NO_SESSION}:' in sessions and "No data yet." not in sessions


def test_backstage_days_draw_diamonds_where_there_are_no_viewers(tmp_path):
    marts = write_live_marts(tmp_path / "marts")
    build_report(marts)
    figure = _figure(_page(marts, "relay"), "live_daily")
    minutes, line = figure["data"]
    assert minutes["y"] == [60.0, 90.0]
    assert (line["name"], line["y"]) == ("diamonds", [120, 300])
    assert minutes["customdata"] == [
        "1 LIVE(s) · 4 new followers · from LIVE Backstage", "1 LIVE(s) · 6 new followers · from LIVE Backstage"
    ]  # fmt: skip
    assert figure["layout"]["title"]["text"] == "LIVE per day: minutes live and diamonds"


def test_an_account_without_live_data_says_no_data_yet_as_before(tmp_path):
    marts = write_live_marts(tmp_path / "marts")
    build_report(marts)
    quiet = _page(marts, "quiet")
    assert NO_DATA in quiet and NO_SESSION not in quiet
    assert '<p class="nodata" id="nodata-live_daily">No data yet.</p>' in quiet
    assert 'id="chart-followers"' in quiet


def test_a_report_without_the_daily_mart_reads_as_before(tmp_path):
    """An older warehouse (no fct_live_account_daily published) or no LIVE at all: no daily section, and the
    sessions section says "No data yet." on every page."""
    marts = write_live_marts(tmp_path / "marts")
    (marts / "fct_live_account_daily.parquet").unlink()
    build_report(marts)
    for handle in ("centre", "quiet", "relay"):
        page = _page(marts, handle)
        assert NO_DATA in page and "LIVE per day" not in page and NO_SESSION not in page, handle
    (marts / "fct_live_sessions.parquet").unlink()
    build_report(marts)
    assert NO_DATA in _page(marts, "centre") and "LIVE per day" not in _page(marts, "centre")
