"""The report in a real browser: headless Chromium (the Debian package) opens every page from disk, with no
network, through the DevTools protocol (a small client over `websockets`; no browser download, no playwright).

Asserts the charts are drawn (plotly's `.main-svg` in every chart container), no console error or uncaught
exception, no request other than file://, the portfolio sorts on a click, and a hostile title stays text.
A screenshot of each page is written to tests/artifacts/report/ (git-ignored) and its path printed.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from websockets.sync.client import connect

from orchestration.lib.report import build_report
from tests.test_report import HOSTILE_TITLE, write_marts
from tests.test_report_as_of import write_as_of_marts
from tests.test_report_live import write_live_marts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts" / "report"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs the Debian chromium package (.ci/run installs it)")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing can leave the machine
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


class Page:
    """One tab driven over CDP: send a command, collect console errors, exceptions and requested URLs."""

    def __init__(self, ws_url: str):
        self.ws = connect(ws_url, max_size=None, open_timeout=20).__enter__()
        self.ids = itertools.count(1)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.events: list[str] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=True)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method: str, *, session: bool = False, **params):
        message_id = next(self.ids)
        message = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=30))
            if reply.get("id") == message_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply["result"]
            self._event(reply)

    def _event(self, event: dict) -> None:
        method, params = event.get("method"), event.get("params", {})
        self.events.append(method)
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append(
                "console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            self.errors.append("exception: " + json.dumps(params["exceptionDetails"])[:500])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])

    def open(self, path: Path) -> None:
        self.events.clear()
        self.send("Page.navigate", session=True, url=path.as_uri())
        deadline = time.monotonic() + 30
        while "Page.loadEventFired" not in self.events:
            assert time.monotonic() < deadline, f"{path} did not load"
            self._event(json.loads(self.ws.recv(timeout=30)))

    def js(self, expression: str):
        result = self.send("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while not (value := self.js(expression)):
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.1)
        return value

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ws_url = None
        for line in process.stderr:  # Chromium prints its DevTools address on stderr once listening
            if found := re.search(r"DevTools listening on (ws://\S+)", line):
                ws_url = found.group(1)
                break
        assert ws_url, "chromium did not start its DevTools endpoint"
        page = Page(ws_url)
        yield page
        page.ws.__exit__(None, None, None)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return build_report(write_marts(tmp_path_factory.mktemp("report") / "marts"))


def _charts_drawn(page: Page) -> dict:
    """Each chart container → how many plotly SVG roots it holds."""
    return page.js(
        "Object.fromEntries([...document.querySelectorAll('div.chart')]"
        ".map(d => [d.id, d.querySelectorAll('svg.main-svg').length]))"
    )


def _check_clean(page: Page, name: str) -> Path:
    assert page.errors == [], page.errors
    # file:// pages and assets, and data: URIs plotly builds in the page (a heatmap's image); nothing else
    assert [url for url in page.requests if not url.startswith(("file://", "data:"))] == []
    shot = page.screenshot(ARTIFACTS / f"{name}.png")
    print(f"screenshot: {shot}")
    return shot


def test_portfolio_renders_and_sorts(browser, report):
    browser.open(report)
    rows = "[...document.querySelectorAll('#portfolio tbody tr')].map(r => r.dataset.account)"
    assert browser.js(rows) == ["alpha", "beta"]
    # beta's followers end 2026-01-05 as all its data does (its "daily data through" says so): no date of their own
    assert browser.js("document.querySelector('tr[data-account=beta] td:nth-child(2)').textContent") == "4,980"
    # followers: first click sorts descending (beta 4,980 above alpha 190), the second ascending
    browser.js("document.querySelectorAll('#portfolio th')[1].click()")
    assert browser.js(rows) == ["beta", "alpha"]
    browser.js("document.querySelectorAll('#portfolio th')[1].click()")
    assert browser.js(rows) == ["alpha", "beta"]
    # last export, days ago: alpha 0, beta 3 → descending puts beta first
    browser.js("document.querySelectorAll('#portfolio th')[6].click()")
    assert browser.js(rows) == ["beta", "alpha"]
    # the hostile title is the link's text, and its onerror never ran
    assert browser.js("document.querySelector('#breakouts a[href$=\"/video/1\"]').textContent") == HOSTILE_TITLE
    assert browser.js("window.__xss === undefined")
    assert browser.js("document.querySelectorAll('#breakouts img').length") == 0
    browser.wait_for("document.querySelector('#chart-portfolio svg.main-svg')")
    # the bars follow the accounts' followers: alpha 190, beta 4,980
    assert browser.js("document.getElementById('chart-portfolio').data[0].y") == [190, 4980]
    assert (report.parent / "assets" / "plotly.min.js").is_file()
    assert _check_clean(browser, "index").stat().st_size > 10_000


def test_account_pages_draw_every_chart(browser, report):
    pages = sorted((report.parent / "accounts").glob("*.html"))
    assert [p.name for p in pages] == ["alpha.html", "beta.html"]
    expected = {
        "alpha.html": [
            "chart-activity",
            "chart-curves",
            "chart-engagement",
            "chart-followers",
            "chart-gender",
            "chart-territories",
            "chart-trending",
        ],
        # beta has no activity, gender or territory rows: those sections say "No data yet."
        "beta.html": ["chart-curves", "chart-engagement", "chart-followers", "chart-trending"],
    }
    for path in pages:
        browser.open(path)
        browser.wait_for("[...document.querySelectorAll('div.chart')].every(d => d.querySelector('svg.main-svg'))")
        drawn = _charts_drawn(browser)
        assert sorted(drawn) == expected[path.name]
        assert all(count >= 1 for count in drawn.values()), drawn
        assert browser.js("document.getElementById('nodata-live').textContent") == "No data yet."
        _check_clean(browser, path.stem)
    # alpha's trending bars are labelled with the title as text: escaped in the JSON, shown literally by plotly
    browser.open(pages[0])
    browser.wait_for("document.querySelector('#chart-trending svg.main-svg')")
    labels = browser.js("[...document.querySelectorAll('#chart-trending .ytick text')].map(t => t.textContent)")
    assert "#1 " + HOSTILE_TITLE[:39] + "…" in labels, labels
    assert browser.js("window.__xss === undefined")
    # the activity heatmap: Monday's 23:00 holds 230 active followers (10 × hour), drawn from the page's own data
    z = browser.js("document.getElementById('chart-activity').data[0].z[0][23]")
    assert z == 230


def test_report_marts_and_a_live_draw_too(browser, tmp_path):
    index = build_report(write_marts(tmp_path / "marts", with_report_marts=True))
    browser.open(index)
    assert browser.js("document.querySelectorAll('#breakouts tbody tr').length") == 2
    # the agency-wide backstage/ folder: drawn in its own table, not as an account of the portfolio
    assert browser.js("[...document.querySelectorAll('#drop-folders tbody td')].map(d => d.textContent)") == [
        "backstage/", "live", "2026-01-09", "4", "1"
    ]  # fmt: skip
    assert browser.js("[...document.querySelectorAll('#portfolio tbody tr')].map(r => r.dataset.account)") == [
        "alpha", "beta"
    ]  # fmt: skip
    # the files quarantined now, a user-typed file name drawn as text
    cells = "[...document.querySelectorAll('#quarantined-files tbody tr')].map(r => [...r.cells].map(c => c.innerText))"
    assert browser.js(cells) == [
        [HOSTILE_TITLE + ".csv", "no account", "–", "no_account_handle: no @handle", "2026-01-10 08:00 UTC"],
        ["alpha/2026-01-09/Overview_alpha.zip › Overview.csv", "@alpha", "overview",
         "not_nullable at row 3, column Date: a date is missing", "2026-01-09 10:30 UTC"],
        ["backstage/creators (2).xlsx", "backstage/", "live_backstage", "unreadable: not a workbook", "–"],
    ]  # fmt: skip
    _check_clean(browser, "index-report-marts")
    browser.open(index.parent / "accounts" / "alpha.html")
    browser.wait_for("[...document.querySelectorAll('div.chart')].every(d => d.querySelector('svg.main-svg'))")
    drawn = _charts_drawn(browser)
    assert {"chart-rates", "chart-live", "chart-live_daily"} <= set(drawn) and all(drawn.values()), drawn
    assert browser.js("document.getElementById('chart-live').data[0].y") == [250]
    # the LIVE's start on the account's clock, named on the axis; one LIVE spans a day either side, not a millisecond
    assert browser.js("document.getElementById('chart-live').data[0].x") == ["2026-01-06T15:00:00"]
    assert browser.js("document.querySelector('#chart-live .g-xtitle text').textContent") == "start (America/New_York)"
    ticks = browser.js("[...document.querySelectorAll('#chart-live .xtick text')].map(t => t.textContent)")
    assert ticks and not any("." in tick for tick in ticks), ticks  # no "15:00:00.0004"
    _check_clean(browser, "alpha-report-marts")


def test_an_account_with_one_day_draws_its_points_and_a_long_title_wraps(browser, tmp_path):
    """One day of data: a line through one point drew nothing, on an axis of milliseconds around midnight; rates all
    null drew empty axes; a 3,000-character title without spaces made the page 27,077 px wide."""
    marts = tmp_path / "marts"
    marts.mkdir()
    long_title = "L" * 3000
    tables = {
        "dim_accounts": """select 'solo' as account_handle, date '2026-02-20' as first_metric_date,
            date '2026-02-20' as last_metric_date, 77 as latest_followers, date '2026-02-20' as latest_followers_date,
            1 as videos_seen, date '2026-02-20' as last_video_snapshot_date, date '2026-02-20' as first_export_date,
            date '2026-02-20' as last_export_date, 3 as documents_loaded, 0 as documents_quarantined""",
        "fct_follower_growth_daily": """select 'solo' as account_handle, date '2026-02-20' as metric_date,
            77 as followers, 3 as net_follower_change, null::bigint as net_follower_change_7d,
            null::bigint as net_follower_change_28d""",
        "fct_account_overview_daily": """select 'solo' as account_handle, date '2026-02-20' as metric_date,
            42 as video_views, 1 as profile_views, 5 as likes, 0 as comments, 0 as shares,
            null::bigint as total_viewers, null::bigint as new_viewers, null::bigint as returning_viewers,
            true as is_provisional""",
        "rpt_account_scorecard_daily": """select 'solo' as account_handle, date '2026-02-20' as metric_date,
            77 as followers, null::double as follower_growth_rate_7d, null::double as follower_growth_rate_28d,
            null::double as engagement_rate_by_views, null::double as engagement_rate_by_followers,
            null::double as engagement_rate_by_reach""",
        "dim_videos": f"""select 'solo' as account_handle, '7' as video_id, '{long_title}' as video_title,
            'https://www.tiktok.com/@solo/video/7' as video_link""",
        "rpt_trending_videos_7d": """select 'solo' as account_handle, date '2026-02-20' as as_of_date,
            1 as trending_rank, '7' as video_id, 100 as views_gained_7d, 100 as views_total,
            date '2026-02-19' as post_date, false as has_full_window""",
    }
    for name, sql in tables.items():
        duckdb.execute(f"copy ({sql}) to '{marts / name}.parquet' (format parquet)")
    index = build_report(marts)
    browser.open(index.parent / "accounts" / "solo.html")
    browser.wait_for("[...document.querySelectorAll('div.chart')].every(d => d.querySelector('svg.main-svg'))")
    for chart in ("followers", "engagement"):
        points = browser.js(f"document.querySelectorAll('#chart-{chart} .scatterlayer .point').length")
        assert points >= 1, chart  # the day's marker is drawn
        ticks = browser.js(f"[...document.querySelectorAll('#chart-{chart} .xtick text')].map(t => t.textContent)")
        assert ticks and not any(":" in tick for tick in ticks), ticks  # days, not the hours around one midnight
    assert browser.js("document.getElementById('nodata-rates').textContent") == "No data yet."
    assert browser.js("document.documentElement.scrollWidth") <= 1280  # the viewport's width
    assert browser.js("document.querySelector('#trending td a').textContent") == long_title
    _check_clean(browser, "solo-one-day")


def _ticks(page: Page, chart: str, axis: str) -> list[str]:
    return page.js(f"[...document.querySelectorAll('#chart-{chart} .{axis}tick text')].map(t => t.textContent)")


WHOLE = re.compile(r"−?\d{1,3}(,\d{3})*")  # plotly writes a minus as U+2212


def test_old_follower_figures_are_dated_in_the_table_and_the_chart(browser, tmp_path):
    """stale's followers end 2026-01-10, its Overview 2026-02-19: its row and its bar say "as of 2026-01-10" (they
    showed 2,820, +140, +560 beside its views current to 2026-02-19); fresh's are current."""
    index = build_report(write_as_of_marts(tmp_path / "marts"))
    browser.open(index)
    cells = "[...document.querySelectorAll('tr[data-account=%s] td')].slice(1, 6).map(c => c.innerText)"
    assert browser.js(cells % "stale") == ["2,820\nas of 2026-01-10", "+140", "+560", "5.22%", "24.78%"]
    assert browser.js(cells % "fresh") == ["1,003", "–", "–", "–", "–"]
    color = "getComputedStyle(document.querySelector('tr[data-account=%s] td:nth-child(3)')).color"
    assert browser.js(color % "stale") != browser.js(color % "fresh")  # the old figures stand out
    browser.wait_for("document.querySelector('#chart-portfolio svg.main-svg')")
    # the bar's label carries its day (two lines: the handle, then the day), its bar is hatched
    assert _ticks(browser, "portfolio", "x") == ["@fresh", "@onair", "@staleas of 2026-01-10"]
    hatched = "[...document.querySelectorAll('#chart-portfolio .bars path')].map(p => p.style.fill.startsWith('url('))"
    assert browser.js(hatched) == [False, False, True]  # fresh, onair (no bar), stale: filled with a pattern
    _check_clean(browser, "index-as-of")


def test_count_axes_tick_whole_numbers_and_a_few_days_tick_by_day(browser, tmp_path):
    """A right-hand count axis was ticked on the left axis's grid (fresh's net changes −1.76, 0.45, 2.65, 4.86; the
    portfolio's 7-day growth 139, 139.337 …), zero unlabelled; 5 days were ticked by 12 hours. fresh's net changes
    are −3, +2, +5, −1 over 2026-02-15..19, stale's 7-day growth +140."""
    index = build_report(write_as_of_marts(tmp_path / "marts"))
    browser.open(index)
    browser.wait_for("document.querySelector('#chart-portfolio svg.main-svg')")
    growth = _ticks(browser, "portfolio", "y2")
    assert "0" in growth and all(WHOLE.fullmatch(t) for t in growth), growth
    browser.open(index.parent / "accounts" / "fresh.html")
    browser.wait_for("document.querySelector('#chart-followers svg.main-svg')")
    assert _ticks(browser, "followers", "y2") == ["−3", "−2", "−1", "0", "1", "2", "3", "4", "5"]
    followers = _ticks(browser, "followers", "y")
    assert followers and all(WHOLE.fullmatch(t) for t in followers), followers
    # a tick a day, each a date: "Feb 15" with the year under the first
    assert _ticks(browser, "followers", "x") == ["Feb 152026", "Feb 16", "Feb 17", "Feb 18", "Feb 19"]
    _check_clean(browser, "fresh-as-of")


def test_freshness_tells_the_daily_range_and_overview_days_apart(browser, tmp_path):
    """fresh has 5 days of followers and no Overview: it read "2026-02-15 → 2026-02-19 (0 day(s) of overview)";
    onair has LIVEs only: it read "(0 day(s) of overview)"."""
    index = build_report(write_as_of_marts(tmp_path / "marts"))
    facts = "[...document.querySelectorAll('#freshness dt')].map(d => d.innerText + ': ' + d.nextSibling.innerText)"
    expected = {
        "fresh": [
            "last export: 2026-02-20 (0 day(s) before the newest data, 2026-02-20)",
            "daily data: 2026-02-15 → 2026-02-19",
            "files loaded: 1",
            "quarantined files: 0",
        ],
        "onair": [
            "last export: 2026-02-18 (2 day(s) before the newest data, 2026-02-20)",
            "daily data: none: no Overview, Viewers or follower figures",
            "files loaded: 2",
            "quarantined files: 0",
        ],
        "stale": [
            "last export: 2026-02-20 (0 day(s) before the newest data, 2026-02-20)",
            "daily data: 2025-12-13 → 2026-02-19",
            "days of Overview: 28",
            "provisional days: 0",
            "files loaded: 4",
            "quarantined files: 0",
        ],
    }
    for handle, shown in expected.items():
        browser.open(index.parent / "accounts" / f"{handle}.html")
        assert browser.js(facts) == shown, handle


def test_live_center_days_draw_a_daily_live_chart(browser, tmp_path):
    """centre has LIVE Center days only (45.5, 0, 130 minutes; peak viewers 292, 0, 261) and no recorded LIVE: its
    page said "No data yet." in every section; quiet has no LIVE at all and still says so."""
    index = build_report(write_live_marts(tmp_path / "marts"))
    browser.open(index.parent / "accounts" / "centre.html")
    browser.wait_for("document.querySelector('#chart-live_daily svg.main-svg')")
    chart = "document.getElementById('chart-live_daily')"
    assert browser.js(f"{chart}.data[0].y") == [45.5, 0, 130]
    assert browser.js(f"{chart}.data[1].y") == [292, 0, 261]
    # the drawn bars: one per day, their heights in proportion to the minutes (the empty day has none)
    heights = browser.js(
        "[...document.querySelectorAll('#chart-live_daily .bars .point path')].map(p => p.getBBox().height)"
    )
    assert len(heights) == 3 and heights[1] == 0, heights
    assert abs(heights[2] / heights[0] - 130 / 45.5) < 0.02, heights
    assert browser.js("document.querySelectorAll('#chart-live_daily .scatterlayer .point').length") == 3
    peaks = _ticks(browser, "live_daily", "y2")
    assert "0" in peaks and all(WHOLE.fullmatch(t) for t in peaks), peaks
    assert _ticks(browser, "live_daily", "x")[1:] == ["Feb 17", "Feb 18"]  # a tick a day
    assert browser.js("document.getElementById('nodata-live').textContent").startswith("No recorded LIVE session:")
    _check_clean(browser, "centre-live-daily")
    browser.open(index.parent / "accounts" / "quiet.html")
    assert browser.js("document.getElementById('nodata-live').textContent") == "No data yet."
    assert browser.js("document.getElementById('nodata-live_daily').textContent") == "No data yet."
