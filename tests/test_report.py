"""The HTML report from a hand-made set of published marts: values, escaping, missing marts, determinism.

The browser test (tests/test_report_browser.py) builds the same marts and checks the pages in Chromium.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.report import build_report
from orchestration.lib.report.render import figure_json, page_name

# A video title a creator could type: rendered as text, never as markup.
HOSTILE_TITLE = '<img src=x onerror="window.__xss=1"> & "cook"'
# A link a received file (or an API field) could carry: shown as a link, it would run when clicked.
HOSTILE_LINK = "javascript:window.__xss=2//https://www.tiktok.com/@alpha/video/2"


def write_marts(marts: Path, *, with_activity: bool = True, with_report_marts: bool = False) -> Path:
    """Two accounts over 2026-01-01..10 (alpha) and 01-03..05 (beta); every figure below is chosen by hand."""
    marts.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    tables = {
        "dim_accounts": """select * from (values
            ('alpha', date '2026-01-01', date '2026-01-10', 190, date '2026-01-10', 2, date '2026-01-10',
             date '2026-01-02', date '2026-01-10', 12, 1),
            ('beta', date '2026-01-03', date '2026-01-05', 4980, date '2026-01-05', 1, date '2026-01-05',
             date '2026-01-04', date '2026-01-07', 3, 0))
            t(account_handle, first_metric_date, last_metric_date, latest_followers, latest_followers_date,
              videos_seen, last_video_snapshot_date, first_export_date, last_export_date, documents_loaded,
              documents_quarantined)""",
        # alpha: 100, 110, ..., 190 (+10 a day; 7-day change 70 at the last day); beta: 5000, 4990, 4980
        "fct_follower_growth_daily": """
            select 'alpha' as account_handle, date '2026-01-01' + i::integer as metric_date, 100 + 10 * i as followers,
                case when i > 0 then 10 end as net_follower_change,
                case when i >= 7 then 70 end as net_follower_change_7d, null::bigint as net_follower_change_28d
            from range(10) r(i)
            union all
            select 'beta', date '2026-01-03' + i::integer, 5000 - 10 * i, case when i > 0 then -10 end, null, null
            from range(3) r(i)""",
        # alpha: 1000 views, 50 + 10 + 40 = 100 interactions a day → 10,000 views, 10.00%; the last 3 days provisional
        # beta: 200 views, 10 likes a day → 600 views, 5.00%
        "fct_account_overview_daily": """
            select 'alpha' as account_handle, date '2026-01-01' + i::integer as metric_date, 1000 as video_views,
                20 as profile_views, 50 as likes, 10 as comments, 40 as shares, 300 as total_viewers,
                200 as new_viewers, 100 as returning_viewers, i >= 7 as is_provisional
            from range(10) r(i)
            union all
            select 'beta', date '2026-01-03' + i::integer, 200, 5, 10, 0, 0, 50, 40, 10, false from range(3) r(i)""",
        "dim_videos": f"""select * from (values
            ('alpha', '1', '{HOSTILE_TITLE.replace("'", "''")}', 'https://www.tiktok.com/@alpha/video/1'),
            ('alpha', '2', 'Plain title', '{HOSTILE_LINK}'),
            ('beta', '3', 'Beta hit', 'https://www.tiktok.com/@beta/video/3'))
            t(account_handle, video_id, video_title, video_link)""",
        # the older day (alpha, 01-09) must not show: "this week" is each account's newest day
        "rpt_trending_videos_7d": """select * from (values
            ('alpha', date '2026-01-10', 1, '1', 900, 1500, date '2026-01-02', true),
            ('alpha', date '2026-01-10', 2, '2', 300, 800, date '2026-01-01', true),
            ('alpha', date '2026-01-09', 1, '2', 5000, 700, date '2026-01-01', true),
            ('beta', date '2026-01-05', 1, '3', 500, 500, date '2026-01-04', false))
            t(account_handle, as_of_date, trending_rank, video_id, views_gained_7d, views_total, post_date,
              has_full_window)""",
        "fct_video_engagement_daily": """select * from (values
            ('alpha', '1', date '2026-01-03', 600), ('alpha', '1', date '2026-01-10', 1500),
            ('alpha', '2', date '2026-01-03', 500), ('alpha', '2', date '2026-01-10', 800),
            ('beta', '3', date '2026-01-05', 500))
            t(account_handle, video_id, metric_date, views_total)""",
        "fct_follower_gender_snapshot": """select * from (values
            ('alpha', date '2026-01-05', 'Female', 0.6), ('alpha', date '2026-01-05', 'Male', 0.4),
            ('alpha', date '2026-01-10', 'Female', 0.5), ('alpha', date '2026-01-10', 'Male', 0.5))
            t(account_handle, snapshot_date, gender, distribution)""",
        "fct_follower_territory_snapshot": """select * from (values
            ('alpha', date '2026-01-05', 'US', 0.7), ('alpha', date '2026-01-05', 'GB', 0.3),
            ('alpha', date '2026-01-10', 'US', 0.6), ('alpha', date '2026-01-10', 'GB', 0.4))
            t(account_handle, snapshot_date, territory, distribution)""",
    }
    if with_activity:  # 2026-01-05 is a Monday: 24 hours, hour h has 10 h active followers
        tables["fct_follower_activity_hourly"] = """
            select 'alpha' as account_handle, date '2026-01-05' as metric_date, h as hour,
                10 * h as active_followers from range(24) r(h)"""
    if with_report_marts:
        tables.update(REPORT_MARTS)
    for name, sql in tables.items():
        con.execute(f"copy ({sql}) to '{marts / name}.parquet' (format parquet)")
    con.close()
    return marts


# The marts issue 9 adds for the report, and a LIVE: the report uses them when they are published.
REPORT_MARTS = {
    # alpha's 7-day growth rate at its last day: 70 / 120 = 58.33 %
    "rpt_account_scorecard_daily": """select * from (values
        ('alpha', date '2026-01-09', 180, 0.5, null::double, 0.1, 100 / 180, null::double),
        ('alpha', date '2026-01-10', 190, 70 / 120, null::double, 0.1, 100 / 190, null::double),
        ('beta', date '2026-01-05', 4980, null::double, null::double, 0.05, 10 / 4980, null::double))
        t(account_handle, metric_date, followers, follower_growth_rate_7d, follower_growth_rate_28d,
          engagement_rate_by_views, engagement_rate_by_followers, engagement_rate_by_reach)""",
    # the week to 2026-01-10 is 01-04..01-10: alpha 1 at its best day (4.5 on 01-08), beta 3 at 2.5 (01-05);
    # beta 3's 9.0 on 01-02 is older, alpha 2 is no breakout
    "rpt_video_outliers_daily": """select * from (values
        ('alpha', '1', date '2026-01-10', 1500, 900, 3.0, 300, '0-7d', true),
        ('alpha', '1', date '2026-01-08', 1200, 900, 4.5, 200, '0-7d', true),
        ('alpha', '2', date '2026-01-10', 800, 300, 1.0, 300, '8-30d', false),
        ('beta', '3', date '2026-01-02', 100, 90, 9.0, 10, '0-7d', true),
        ('beta', '3', date '2026-01-05', 500, 500, 2.5, 200, '0-7d', true))
        t(account_handle, video_id, metric_date, views_total, views_gained_7d, outlier_score,
          peer_median_views_gained_7d, age_bucket, is_breakout)""",
    "rpt_account_freshness": """select * from (values
        ('alpha', 'studio', date '2026-01-10', 0, 12, 1, false),
        ('alpha', 'api_display', date '2026-01-08', 2, 5, 0, false),
        -- the inbox's backstage/ folder: agency-wide LIVE Backstage downloads, not an account (not in dim_accounts)
        ('backstage', 'live', date '2026-01-09', 1, 4, 1, true),
        -- a TikTok API account whose pulls all failed: no account (no data), and no folder either
        ('newbrand', 'api_display', null, null, 0, 2, false))
        t(account_handle, export_source, last_export_date, days_behind_reference, exports_loaded,
          exports_not_loaded, is_agency_wide_folder)""",
    # alpha's one quarantined file (dim_accounts.documents_quarantined), backstage/'s, and a file no account could be
    # told for, whose name a user typed: shown as text
    "rpt_quarantined_files": f"""select * from (values
        ('d3', '{HOSTILE_TITLE.replace("'", "''")}.csv', null, null, null, 'no_account_handle: no @handle',
         timestamp '2026-01-10 08:00:00'),
        ('d1', 'alpha/2026-01-09/Overview_alpha.zip', 'Overview.csv', 'alpha', 'overview',
         'not_nullable at row 3, column Date: a date is missing', timestamp '2026-01-09 10:30:00'),
        ('d2', 'backstage/creators (2).xlsx', null, 'backstage', 'live_backstage', 'unreadable: not a workbook',
         null))
        t(document_id, inbox_path, zip_member, account_handle, file_kind, quarantine_reason, received_at)""",
    # 20:00 UTC is 15:00 in New York (EST, UTC-5), the account's clock the page shows it on
    "fct_live_sessions": """select 'alpha' as account_handle, date '2026-01-06' as metric_date,
        timestamp '2026-01-06 20:00:00' as started_at, 3600 as duration_s, 250 as peak_viewers,
        'America/New_York' as account_timezone""",
    # that LIVE's day, from its event log: 1 LIVE, 3,600 s = 60 minutes, peak 250
    "fct_live_account_daily": """select 'alpha' as account_handle, date '2026-01-06' as metric_date,
        'event_log' as figures_source, 1 as lives, 60.0 as minutes_live, 250 as peak_viewers, null::bigint as hearts,
        null::bigint as diamonds, null::double as diamonds_usd, null::bigint as new_followers""",
}


def test_portfolio_shows_each_account_with_figures_worked_out_by_hand(tmp_path):
    index = build_report(write_marts(tmp_path / "marts"))
    assert index == tmp_path / "marts" / "report" / "index.html"
    html = index.read_text()
    assert "Quarantined files" not in html  # rpt_quarantined_files not published (yet): no section
    alpha = html[html.index('<tr data-account="alpha">') : html.index('<tr data-account="beta">')]
    beta = html[html.index('<tr data-account="beta">') : html.index("</tbody>")]
    for shown in ('data-value="190">190<', 'data-value="70">+70<', ">10,000<", ">10.00%<", "0 day(s) ago (2026-01-10)"):
        assert shown in alpha, shown
    # beta's last export 2026-01-07 is 3 days before the newest data day (alpha's 2026-01-10), whatever today is;
    # its daily figures end on 2026-01-05 (dim_accounts.last_metric_date), 5 days before; alpha's on the newest day
    for shown in (
        ">4,980<",
        ">600<",
        ">5.00%<",
        "3 day(s) ago (2026-01-07)",
        ">2026-01-05 (5 day(s) before the newest)<",
    ):
        assert shown in beta, shown
    assert 'data-value="0">2026-01-10</td>' in alpha
    # breakouts: each account's newest trending day, by 7-day growth: alpha 1 (900), beta 3 (500), alpha 2 (300)
    breakouts = html[html.index('id="breakouts"') :]
    assert breakouts.index(">900<") < breakouts.index(">Beta hit<") < breakouts.index(">Plain title<")
    assert "5,000" not in breakouts  # alpha's older day
    assert '<a href="accounts/alpha.html">@alpha</a>' in html


def test_titles_are_escaped_in_tables_and_figures(tmp_path):
    build_report(write_marts(tmp_path / "marts"))
    for page in ("index.html", "accounts/alpha.html"):
        html = (tmp_path / "marts" / "report" / page).read_text()
        assert "<img" not in html
        assert "&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt; &amp; &#34;cook&#34;" in html
    # a link other than TikTok's https page is no link: its title shows as text; TikTok's own links stay links
    account = (tmp_path / "marts" / "report" / "accounts/alpha.html").read_text()
    assert "javascript" not in account and "<td>Plain title</td>" in account
    assert '<a href="https://www.tiktok.com/@alpha/video/1" rel="noopener noreferrer">&lt;img' in account
    # inside a figure the title is HTML-escaped (plotly shows it literally) and the JSON cannot close its <script>
    assert figure_json({"t": "</script><b>"}) == '{"t":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    assert json.loads(figure_json({"t": "a & <b>"})) == {"t": "a & <b>"}


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://www.tiktok.com/@alpha/video/7546034661705796877", True),
        ("https://tiktok.com/@alpha/video/1?lang=en", True),
        ("https://vm.tiktok.com/ZMabc/", True),
        ("HTTPS://WWW.TIKTOK.COM/@a/video/1", True),  # scheme and host are case-blind
        ("http://www.tiktok.com/@alpha/video/1", False),
        ("javascript:alert(1)//https://www.tiktok.com/@alpha/video/1", False),
        (" javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("https://www.tiktok.com.evil.example/@alpha/video/1", False),
        ("https://eviltiktok.com/@alpha/video/1", False),
        ("https://www.tiktok.com@evil.example/video/1", False),
        ("https://evil.example\\@www.tiktok.com/video/1", False),  # browsers read the backslash as a slash
        ("https://www.tiktok.com/@a/video/1\nSet-Cookie: x", False),
        ("https://www.tiktok.com/@a/video/1\x7f", False),  # DEL
        ("https://www.tiktok.com/@a/\x01video/1", False),  # a C0 control
        ("https://www.tiktok.com/@a/video/1\u00a0", False),  # a no-break space (Unicode whitespace)
        ("https://www.tiktok.com/@a/video/1\u2028x", False),  # a line separator
        ("https://www.tiktok.com/@café/video/1", True),  # other non-ASCII text is kept
        ("https://[::1", False),
        ("", False),
        (None, False),
    ],
)
def test_only_https_links_on_tiktok_com_are_links(url, linked):
    from orchestration.lib.core.links import tiktok_link

    assert tiktok_link(url) == (url if linked else None)


def test_account_page_sections_and_missing_marts_say_no_data_yet(tmp_path):
    build_report(write_marts(tmp_path / "marts", with_activity=False))
    alpha = (tmp_path / "marts" / "report" / "accounts" / "alpha.html").read_text()
    for chart in ("followers", "engagement", "trending", "curves", "gender", "territories"):
        assert f'id="chart-{chart}"' in alpha, chart
    assert 'id="nodata-activity"' in alpha and 'id="nodata-live"' in alpha  # no such mart published
    assert "2026-01-02 → 2026-01-10" not in alpha  # days covered are metric days, not export days
    assert '<dd id="daily-data">2026-01-01 → 2026-01-10</dd>' in alpha and '<dd id="overview-days">10</dd>' in alpha
    assert "3 (from 2026-01-08: TikTok may still revise them)" in alpha  # provisional days
    assert '<dd id="quarantined">1</dd>' in alpha
    # trending this week: the newest day's two videos in rank order, with links
    trending = alpha[alpha.index('<table id="trending">') : alpha.index("</table>", alpha.index('id="trending"'))]
    assert trending.index("https://www.tiktok.com/@alpha/video/1") < trending.index(">Plain title<")
    assert ">900<" in trending and ">300<" in trending and ">5,000<" not in trending


def test_no_marts_at_all_gives_an_empty_portfolio(tmp_path):
    (tmp_path / "marts").mkdir()
    html = build_report(tmp_path / "marts").read_text()
    assert "0 account(s)" in html and html.count("No data yet.") == 2
    assert (tmp_path / "marts" / "report" / "assets" / "plotly.min.js").stat().st_size > 1_000_000


def test_same_marts_give_byte_identical_pages(tmp_path):
    marts = write_marts(tmp_path / "marts")
    first = {p.relative_to(marts): p.read_bytes() for p in sorted(build_report(marts).parent.rglob("*.html"))}
    second = {p.relative_to(marts): p.read_bytes() for p in sorted(build_report(marts).parent.rglob("*.html"))}
    assert first == second and len(first) == 3
    assert sorted(p.name for p in marts.iterdir() if p.is_dir()) == ["report"]  # no staging folder left


def test_page_names_keep_handles_and_neutralise_anything_else():
    assert page_name("maria.cocina") == "maria.cocina.html"
    assert page_name("../evil/x") == "~.._evil_x.html"  # no folder, not hidden
    assert len({page_name("._x"), page_name("_x"), page_name(".x"), page_name("x")}) == 4


def test_make_report_rebuilds_from_the_published_marts_and_prints_the_path(tmp_path, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("TIKTOK_DATA_DIR", str(tmp_path))
    assert main(["report"]) == 1  # nothing published yet
    assert "run `make run` first" in capsys.readouterr().err
    write_marts(tmp_path / "marts")
    assert main(["report"]) == 0
    assert capsys.readouterr().out == f"Report: {tmp_path / 'marts' / 'report' / 'index.html'}\n"
    assert (tmp_path / "marts" / "report" / "accounts" / "beta.html").is_file()
    assert not (tmp_path / "warehouse" / "pipeline.duckdb").exists()  # the working warehouse is never opened


def test_the_report_asset_follows_every_published_mart_in_the_daily_job(dbt_manifest):
    import dagster as dg

    from orchestration.definitions import defs

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    key = dg.AssetKey(["report", "index"])
    published = {k for k in graph.get_all_asset_keys() if k.path[0] == "published"}
    assert dg.AssetKey(["published", "fct_account_overview_daily"]) in published
    assert set(graph.get(key).parent_keys) == published
    assert graph.get(key).group_name == "report"
    assert key in definitions.resolve_job_def("daily_pipeline").asset_layer.selected_asset_keys


def test_report_marts_add_growth_rates_breakout_scores_sources_and_lives(tmp_path):
    marts = write_marts(tmp_path / "marts", with_report_marts=True)
    html = build_report(marts).read_text()
    alpha = html[html.index('<tr data-account="alpha">') : html.index('<tr data-account="beta">')]
    assert ">58.33%<" in alpha
    breakouts = html[html.index('id="breakouts"') :]
    assert breakouts.index(">4.5×<") < breakouts.index(">2.5×<")
    assert "9.0×" not in breakouts and "Plain title" not in breakouts
    page = (marts / "report" / "accounts" / "alpha.html").read_text()
    for chart in ("rates", "live", "live_daily"):
        assert f'id="chart-{chart}"' in page, chart
    sources = page[page.index('<table id="sources">') : page.index("</table>", page.index('id="sources"'))]
    assert '<tr><td>api_display</td><td>2026-01-08</td><td class="num">2</td>' in sources
    mine = page[page.index('<table id="breakouts">') :]
    assert ">4.5×<" in mine and "2026-01-08" in mine and "Beta hit" not in mine[: mine.index("</table>")]
    beta = (marts / "report" / "accounts" / "beta.html").read_text()
    assert 'id="nodata-live"' in beta  # the LIVE mart exists, beta has no LIVE
    # the backstage/ folder is listed with its files, as a folder: no account row, no account page
    folders = html[html.index('<table id="drop-folders">') : html.index("</table>", html.index('id="drop-folders"'))]
    assert "<tr><td>backstage/</td><td>live</td><td>2026-01-09</td>" in folders
    assert '<td class="num">4</td><td class="num">1</td>' in folders
    assert 'data-account="backstage"' not in html
    # every file quarantined now, by its place in the inbox, ordered by it: also one no account could be told for
    # (no portfolio row counts it), its name shown as text; backstage/ named as the folder it is
    assert '<p class="muted">3 file(s) dropped into the inbox did not load' in html
    start = html.index('<table id="quarantined-files">')
    quarantined = html[start : html.index("</table>", start)]
    rows = quarantined.split("<tr><td>")[1:]
    assert rows[0].startswith("&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt; &amp; &#34;cook&#34;.csv</td>")
    assert "<td>no account</td>\n<td>–</td><td>no_account_handle: no @handle</td>\n<td>2026-01-10 08:00 UTC" in rows[0]
    assert rows[1].startswith("alpha/2026-01-09/Overview_alpha.zip › Overview.csv</td>\n<td>@alpha</td>\n<td>overview")
    assert "<td>2026-01-09 10:30 UTC</td>" in rows[1]
    assert rows[2].startswith("backstage/creators (2).xlsx</td>\n<td>backstage/</td>") and "<td>–</td></tr>" in rows[2]
    assert sorted(p.name for p in (marts / "report" / "accounts").iterdir()) == ["alpha.html", "beta.html"]


def test_a_freshness_mart_published_before_its_folder_column_lists_no_folder(tmp_path):
    marts = write_marts(tmp_path / "marts", with_report_marts=True)
    with duckdb.connect() as con:  # as an older version published it
        con.execute(f"""copy (select * exclude (is_agency_wide_folder) from '{marts / "rpt_account_freshness.parquet"}')
            to '{tmp_path / "old.parquet"}' (format parquet)""")
    (tmp_path / "old.parquet").replace(marts / "rpt_account_freshness.parquet")
    html = build_report(marts).read_text()
    assert 'id="drop-folders"' not in html and '<tr data-account="alpha">' in html


def test_a_flood_of_quarantined_files_lists_the_first_hundred_and_says_how_many(tmp_path):
    """A new TikTok format can quarantine every download of an agency: the page stays readable."""
    marts = write_marts(tmp_path / "marts", with_report_marts=True)
    with duckdb.connect() as con:  # 250 files, f000.csv .. f249.csv
        con.execute(f"""copy (select 'd' || i as document_id, printf('f%03d.csv', i) as inbox_path,
            null::varchar as zip_member, null::varchar as account_handle, null::varchar as file_kind,
            'no_account_handle' as quarantine_reason, null::timestamp as received_at from range(250) r(i))
            to '{marts / "rpt_quarantined_files.parquet"}' (format parquet)""")
    html = build_report(marts).read_text()
    start = html.index('<table id="quarantined-files">')
    rows = html[start : html.index("</table>", start)].split("<tr><td>")[1:]
    assert [row.split("<")[0] for row in rows] == [f"f{i:03d}.csv" for i in range(100)]
    assert "250 file(s) dropped into the inbox did not load" in html
    assert "The first 100\nby their place in the inbox: rpt_quarantined_files lists them all." in html


def test_an_account_missing_from_some_marts_shows_dashes(tmp_path):
    marts = write_marts(tmp_path / "marts")
    (marts / "fct_follower_growth_daily.parquet").unlink()  # e.g. an account with LIVE files only
    html = build_report(marts).read_text()
    beta = html[html.index('<tr data-account="beta">') : html.index("</tbody>")]
    assert '<td class="num" data-value="">–</td>' in beta and ">600<" in beta
    assert 'id="nodata-followers"' in (marts / "report" / "accounts" / "beta.html").read_text()


def test_every_page_builds_with_any_one_mart_missing(tmp_path):
    for gone in sorted(p.stem for p in write_marts(tmp_path / "all", with_report_marts=True).glob("*.parquet")):
        marts = write_marts(tmp_path / gone, with_report_marts=True)
        (marts / f"{gone}.parquet").unlink()
        assert "@alpha" in build_report(marts).read_text(), gone
        assert "Portfolio" in (marts / "report" / "accounts" / "alpha.html").read_text(), gone


def test_without_plotly_the_build_says_what_is_missing(tmp_path, monkeypatch):
    from orchestration.lib.report import render

    marts = write_marts(tmp_path / "marts")
    find_spec = render.importlib.util.find_spec
    monkeypatch.setattr(render.importlib.util, "find_spec", lambda name: None if name == "plotly" else find_spec(name))
    with pytest.raises(ImportError, match=r"plotly is not installed.*make setup"):
        build_report(marts)
    assert sorted(p.name for p in marts.iterdir() if p.is_dir()) == []  # no report, no staging folder left


def test_no_28_day_engagement_rate_on_net_negative_views(tmp_path):
    """Overview's daily figures are net of removals: 28 days summing to -250 views and -25 interactions showed a
    10.00% rate (review), as the scorecard did before it left such days without a rate."""
    marts = tmp_path / "marts"
    marts.mkdir()
    tables = {
        "dim_accounts": """select 'neg' as account_handle, date '2026-01-01' as first_metric_date,
            date '2026-01-01' as last_metric_date, 10 as latest_followers, date '2026-01-01' as latest_followers_date,
            0 as videos_seen, null::date as last_video_snapshot_date, date '2026-01-02' as first_export_date,
            date '2026-01-02' as last_export_date, 1 as documents_loaded, 0 as documents_quarantined""",
        "fct_account_overview_daily": """select 'neg' as account_handle, date '2026-01-01' as metric_date,
            -250 as video_views, 0 as profile_views, -20 as likes, -5 as comments, 0 as shares,
            null::bigint as total_viewers, null::bigint as new_viewers, null::bigint as returning_viewers,
            false as is_provisional""",
    }
    for name, sql in tables.items():
        duckdb.execute(f"copy ({sql}) to '{marts / name}.parquet' (format parquet)")
    row = build_report(marts).read_text().split('<tr data-account="neg">', 1)[1].split("</tr>", 1)[0]
    assert ">-250<" in row and "%" not in row
