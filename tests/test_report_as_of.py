"""Dates on the report's figures: follower numbers older than the rest of a row, the days an account page covers,
and chart axes that read as days and whole numbers. Marts made by hand; the browser checks are in
tests/test_report_browser.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from orchestration.lib.report import build_report
from tests.test_report import write_marts


def write_as_of_marts(marts: Path) -> Path:
    """Three accounts, the newest daily data 2026-02-19:

    - stale: FollowerHistory 2025-12-13..2026-01-10 (2,260 + 20 a day → 2,820; +140 in 7 days, +560 in 28), its
      Overview 2026-01-23..2026-02-19 (28 days);
    - fresh: FollowerHistory only, 2026-02-15..19: 1,000, 997, 999, 1,004, 1,003 (net -3, +2, +5, -1), no Overview;
    - onair: LIVE Center only, one LIVE on 2026-02-18: no daily data at all.
    """
    marts.mkdir(parents=True, exist_ok=True)
    tables = {
        "dim_accounts": """select * from (values
            ('stale', date '2025-12-13', date '2026-02-19', 2820, date '2026-01-10', 0, null::date,
             date '2026-01-11', date '2026-02-20', 4, 0),
            ('fresh', date '2026-02-15', date '2026-02-19', 1003, date '2026-02-19', 0, null::date,
             date '2026-02-20', date '2026-02-20', 1, 0),
            ('onair', null::date, null::date, null::bigint, null::date, 0, null::date,
             date '2026-02-18', date '2026-02-18', 2, 0))
            t(account_handle, first_metric_date, last_metric_date, latest_followers, latest_followers_date,
              videos_seen, last_video_snapshot_date, first_export_date, last_export_date, documents_loaded,
              documents_quarantined)""",
        "fct_follower_growth_daily": """
            select 'stale' as account_handle, date '2025-12-13' + i::integer as metric_date,
                2260 + 20 * i as followers, case when i > 0 then 20 end as net_follower_change,
                case when i >= 7 then 140 end as net_follower_change_7d,
                case when i >= 28 then 560 end as net_follower_change_28d
            from range(29) r(i)
            union all
            select 'fresh', date '2026-02-15' + i::integer, [1000, 997, 999, 1004, 1003][i + 1],
                [null, -3, 2, 5, -1][i + 1], null, null
            from range(5) r(i)""",
        "fct_account_overview_daily": """
            select 'stale' as account_handle, date '2026-01-23' + i::integer as metric_date, 500 as video_views,
                10 as profile_views, 20 as likes, 5 as comments, 5 as shares, null::bigint as total_viewers,
                null::bigint as new_viewers, null::bigint as returning_viewers, false as is_provisional
            from range(28) r(i)""",
        # the scorecard has a row per Overview day, followers null after the FollowerHistory's last day
        "rpt_account_scorecard_daily": """
            select 'stale' as account_handle, date '2026-01-10' as metric_date, 2820 as followers,
                140 / 2680 as follower_growth_rate_7d, 560 / 2260 as follower_growth_rate_28d,
                null::double as engagement_rate_by_views, null::double as engagement_rate_by_followers,
                null::double as engagement_rate_by_reach
            union all
            select 'stale', date '2026-01-23' + i::integer, null, null, null, 0.06, null, null from range(28) r(i)
            union all
            select 'fresh', date '2026-02-15' + i::integer, [1000, 997, 999, 1004, 1003][i + 1], null, null,
                null, null, null
            from range(5) r(i)""",
        "fct_live_sessions": """select 'onair' as account_handle, date '2026-02-18' as metric_date,
            timestamp '2026-02-18 20:00:00' as started_at, 1800 as duration_s, 40 as peak_viewers,
            'UTC' as account_timezone""",
    }
    for name, sql in tables.items():
        duckdb.execute(f"copy ({sql}) to '{marts / name}.parquet' (format parquet)")
    return marts


def _row(html: str, handle: str) -> str:
    return html.split(f'<tr data-account="{handle}">', 1)[1].split("</tr>", 1)[0]


def _figure(html: str, name: str) -> dict:
    return json.loads(html.split(f'<script type="application/json" id="figure-{name}">', 1)[1].split("</script>")[0])


def test_follower_figures_older_than_the_accounts_other_daily_data_say_their_day(tmp_path):
    """stale's FollowerHistory ends 2026-01-10, its Overview 2026-02-19: its followers and growth are marked as of
    2026-01-10 in the table and in the chart; current figures carry no date."""
    marts = write_as_of_marts(tmp_path / "marts")
    html = build_report(marts).read_text()
    stale, fresh, onair = _row(html, "stale"), _row(html, "fresh"), _row(html, "onair")
    assert '>2,820<span class="as-of">as of 2026-01-10</span></td>' in stale
    # followers, +140, +560, 140 / 2,680 and 560 / 2,260: each cell marked, with its day
    for value, shown in (("140", "+140"), ("560", "+560"), (str(140 / 2680), "5.22%"), (str(560 / 2260), "24.78%")):
        assert f'<td class="num behind" title="as of 2026-01-10" data-value="{value}">{shown}</td>' in stale, shown
    assert stale.count(' behind"') == 5 and ">14,000<" in stale  # 28 Overview days of 500 views: current
    assert '<td class="num" data-value="1003">1,003</td>' in fresh  # through 2026-02-19, the newest: no date
    assert "as of" not in fresh + onair and "behind" not in fresh + onair
    figure = _figure(html, "portfolio")  # accounts in handle order: fresh, onair, stale
    followers, growth = figure["data"]
    assert followers["customdata"] == growth["customdata"] == ["2026-02-19", None, "2026-01-10"]
    assert "%{customdata}" in followers["hovertemplate"] and "%{customdata}" in growth["hovertemplate"]
    assert followers["marker"]["pattern"]["shape"] == ["", "", "/"]
    assert figure["layout"]["xaxis"]["ticktext"] == ["@fresh", "@onair", "@stale<br>as of 2026-01-10"]
    # before dim_accounts is published, the Overview's own newest day tells the same
    (marts / "dim_accounts.parquet").unlink()
    assert '>2,820<span class="as-of">as of 2026-01-10</span></td>' in _row(build_report(marts).read_text(), "stale")


def test_an_account_whose_data_all_ends_early_has_no_follower_date_of_its_own(tmp_path):
    """beta's followers and Overview both end 2026-01-05, alpha's 2026-01-10: beta's row is as old throughout, which
    its "daily data through" cell says; its followers are not singled out."""
    html = build_report(write_marts(tmp_path / "marts")).read_text()
    beta = _row(html, "beta")
    assert '<td class="num" data-value="4980">4,980</td>' in beta and "as of" not in beta
    assert ">2026-01-05 (5 day(s) before the newest)<" in beta


def test_freshness_shows_the_daily_range_and_overview_days_apart(tmp_path):
    """The range is every daily source's (dim_accounts), the count Overview's: fresh has 5 days of followers and no
    Overview ("2026-02-15 → 2026-02-19 (0 day(s) of overview)" before); onair has LIVEs only."""
    marts = write_as_of_marts(tmp_path / "marts")
    build_report(marts)
    page = {h: (marts / "report" / "accounts" / f"{h}.html").read_text() for h in ("stale", "fresh", "onair")}
    assert '<dd id="daily-data">2026-02-15 → 2026-02-19</dd>' in page["fresh"]
    assert '<dd id="daily-data">2025-12-13 → 2026-02-19</dd>' in page["stale"]
    assert '<dd id="overview-days">28</dd>' in page["stale"]
    assert '<dd id="daily-data">none: no Overview, Viewers or follower figures</dd>' in page["onair"]
    for handle in ("fresh", "onair"):
        assert "overview-days" not in page[handle] and "of overview" not in page[handle], handle
        assert "provisional days" not in page[handle], handle  # an Overview figure: no Overview, no line
    # without dim_accounts (not published yet) the range is Overview's own: 28 days from 2026-01-23
    (marts / "dim_accounts.parquet").unlink()
    build_report(marts)
    stale = (marts / "report" / "accounts" / "stale.html").read_text()
    assert '<dd id="daily-data">2026-01-23 → 2026-02-19</dd>' in stale and '<dd id="overview-days">28</dd>' in stale


def test_count_axes_tick_whole_numbers_and_day_axes_whole_days(tmp_path):
    """The figures as the page carries them: a right-hand axis of its own ticks (plotly.js syncs an overlaying
    axis to the left one's grid by default: −1.76, 0.45, 2.65), labelled as integers, zero in view; a few days
    ticked a day apart (plotly went by 12 hours). What is drawn: tests/test_report_browser.py."""
    marts = write_as_of_marts(tmp_path / "marts")
    html = build_report(marts).read_text()
    portfolio = _figure(html, "portfolio")["layout"]
    assert portfolio["yaxis2"] | {"title": None} == {
        "title": None, "overlaying": "y", "side": "right", "showgrid": False, "tickformat": ",d",
        "tickmode": "auto", "rangemode": "tozero",
    }  # fmt: skip
    fresh = _figure((marts / "report" / "accounts" / "fresh.html").read_text(), "followers")["layout"]
    # net changes -3 … +5: a span under plotly's 10 ticks, so a step of 1 from 0
    assert {k: fresh["yaxis2"][k] for k in ("tickformat", "tickmode", "tick0", "dtick", "rangemode")} == {
        "tickformat": ",d", "tickmode": "linear", "tick0": 0, "dtick": 1, "rangemode": "tozero"
    }  # fmt: skip
    assert fresh["xaxis"] == {"type": "date", "dtick": 86_400_000}  # 5 days
    stale = _figure((marts / "report" / "accounts" / "stale.html").read_text(), "followers")["layout"]
    assert stale["xaxis"] == {"type": "date"}  # 29 days: plotly's own step is a day or more
    assert stale["yaxis2"]["tickmode"] == "auto" and "dtick" not in stale["yaxis2"]  # 0 … 20: steps of 1 or more
