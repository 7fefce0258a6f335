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


def write_backstage_creator(marts: Path) -> Path:
    """write_live_marts' accounts, all with data of their own (dim_accounts.known_from), and solo, a creator only the
    agency's LIVE Backstage downloads name: 2026-02-17 and 02-18 (month to date: 300 then 450 diamonds, 3,600 then
    9,000 s LIVE, 2 then 3 LIVEs, 1 then 2 valid days, 8 then 12 new followers), so one Backstage day, 02-18: 1 LIVE,
    90 minutes, 150 diamonds, 4 new followers. relay, an account of its own, is in the downloads too."""
    write_live_marts(marts)
    accounts = marts / "dim_accounts.parquet"
    duckdb.execute(f"""copy (
        select account_handle, 'account_exports' as known_from, * exclude (account_handle) from '{accounts}'
        union all
        select 'solo', 'live_backstage', null, null, null, null, 0, null, null, null, 0, 0
        ) to '{marts / "accounts.tmp"}' (format parquet)""")
    (marts / "accounts.tmp").replace(accounts)
    duckdb.execute(f"""copy (select * from (values
        ('7009', 'solo', date '2026-02-17', date '2026-02-01', 300, 3600, 2, 1, 8, false),
        ('7009', 'solo', date '2026-02-18', date '2026-02-01', 450, 9000, 3, 2, 12, false),
        ('7001', 'relay', date '2026-02-18', date '2026-02-01', 900, 7200, 2, 2, 10, false))
        t(creator_key, creator_handle, metric_date, period_start, diamonds_mtd, live_duration_mtd_s, live_streams_mtd,
          valid_live_days_mtd, new_followers_mtd, has_quit)) to '{marts / "fct_live_backstage_daily.parquet"}'
        (format parquet)""")
    daily = marts / "fct_live_account_daily.parquet"
    duckdb.execute(f"""copy (select * from '{daily}' union all
        select 'solo', date '2026-02-18', 'backstage', 1, 90.0, null, null, 150, 0.75, 4) to '{marts / "daily.tmp"}'
        (format parquet)""")
    (marts / "daily.tmp").replace(daily)
    return marts


def test_a_creator_known_only_from_backstage_is_listed_apart_with_its_live_figures_not_studio_dashes(tmp_path):
    """No portfolio row (every Studio figure would be a dash, its 0 quarantined files a false precision): a table of
    its own with the newest download's month-to-date figures, and a page of its LIVE days without the Studio
    sections that could never have data."""
    marts = write_backstage_creator(tmp_path / "marts")
    html = build_report(marts).read_text()
    assert "3 account(s)." in html and 'data-account="solo"' not in html
    start = html.index('<table class="sortable" id="backstage-creators">')
    creators = html[start : html.index("</table>", start)]
    assert '<tr data-creator="solo">' in creators and "relay" not in creators  # relay has data of its own
    # the 02-18 download: 450 diamonds, 9,000 s = 2.5 h, 3 LIVEs, 2 valid days, 12 new followers
    cells = [c.split(">", 1)[1] for c in creators.split("</td>")[1:-1]]
    assert cells == ["2026-02-01 → 2026-02-18", "450", "2.5", "3", "2", "12"]
    solo = _page(marts, "solo")
    assert 'id="backstage-only"' in solo and "no follower, video or audience figures" in solo
    assert "<dt>LIVE hours</dt><dd>2.5</dd>" in solo and "<dt>diamonds</dt><dd>450</dd>" in solo
    for studio in ("Data freshness", "<h2>Followers</h2>", "Daily views and engagement", "Audience"):
        assert studio not in solo, studio
    minutes, diamonds = _figure(solo, "live_daily")["data"]
    assert (minutes["x"], minutes["y"], diamonds["name"], diamonds["y"]) == (["2026-02-18"], [90.0], "diamonds", [150])
    relay = _page(marts, "relay")
    assert 'id="backstage-only"' not in relay and "<h2>Followers</h2>" in relay
    assert sorted(p.name for p in (marts / "report" / "accounts").iterdir()) == [
        "centre.html", "quiet.html", "relay.html", "solo.html"
    ]  # fmt: skip
