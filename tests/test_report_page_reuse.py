"""An account page is drawn again only when what it shows changed; the others are linked from the previous report
(lib/report/page_reuse.py), and the result is the report a build from nothing gives."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.report import build_report, render
from tests.test_report import REPORT_MARTS, write_marts


@pytest.fixture
def drawn(monkeypatch) -> list[str]:
    """The handles whose page was drawn (rendered from its data) rather than linked, in order."""
    handles: list[str] = []
    real = render._account_html
    monkeypatch.setattr(render, "_account_html", lambda page, *a: handles.append(page["handle"]) or real(page, *a))
    return handles


def republish(marts: Path, mart: str, select: str) -> None:
    """Publish a new version of `mart` (a new file in its place, as publish.py does) from `select` over the old one."""
    path, newer = marts / f"{mart}.parquet", marts / f".{mart}.newer"
    query = select.format(old=f"read_parquet('{path}')")
    duckdb.sql(f"copy ({query}) to '{newer}' (format parquet)")
    os.replace(newer, path)


def pages(report: Path) -> dict[str, bytes]:
    return {p.relative_to(report).as_posix(): p.read_bytes() for p in sorted(report.rglob("*.html"))}


def figure(page: Path, name: str) -> dict:
    found = re.search(rf'<script type="application/json" id="figure-{name}">(.*?)</script>', page.read_text())
    return json.loads(found.group(1))


def test_only_the_account_whose_data_changed_is_drawn_again(tmp_path, drawn):
    marts = write_marts(tmp_path / "marts")
    accounts = marts / "report" / "accounts"
    build_report(marts, unless_current=True)
    assert drawn == ["alpha", "beta"]
    alpha_before, beta_before = (accounts / "alpha.html").stat(), (accounts / "beta.html").read_bytes()

    # beta's first day: 6,000 followers instead of 5,000; alpha's rows are the same
    republish(
        marts,
        "fct_follower_growth_daily",
        "select * replace (case when account_handle = 'beta' and metric_date = date '2026-01-03' then 6000"
        " else followers end as followers) from {old}",
    )
    drawn.clear()
    build_report(marts, unless_current=True)
    assert drawn == ["beta"]
    alpha = (accounts / "alpha.html").stat()
    assert (alpha.st_ino, alpha.st_mtime_ns) == (alpha_before.st_ino, alpha_before.st_mtime_ns), "not rewritten"
    assert (accounts / "beta.html").read_bytes() != beta_before
    assert figure(accounts / "beta.html", "followers")["data"][1]["y"] == [6000, 4990, 4980]

    # the same report, byte for byte, as one drawn from nothing
    drawn.clear()
    fresh = build_report(marts, tmp_path / "fresh").parent
    assert drawn == ["alpha", "beta"]
    assert pages(fresh) == pages(marts / "report") and len(pages(fresh)) == 3


def test_a_new_newest_day_draws_every_page_it_is_written_on(tmp_path, drawn):
    marts = write_marts(tmp_path / "marts")
    # beta has no dim_accounts row: nothing in its data counts from the newest day, only the page's text says it
    republish(marts, "dim_accounts", "select * from {old} where account_handle <> 'beta'")
    build_report(marts)
    beta = (marts / "report" / "accounts" / "beta.html").read_text()
    assert "newest data 2026-01-10." in beta and "day(s) before the newest data" not in beta
    # one more day for alpha only
    republish(
        marts,
        "fct_account_overview_daily",
        "select * from {old} union all "
        "select * replace (date '2026-01-11' as metric_date) from {old}"
        " where account_handle = 'alpha' and metric_date = date '2026-01-10'",
    )
    drawn.clear()
    build_report(marts, unless_current=True)
    assert drawn == ["alpha", "beta"]
    assert "newest data 2026-01-11." in (marts / "report" / "accounts" / "beta.html").read_text()


def test_a_page_edited_since_or_new_code_is_drawn_again(tmp_path, drawn, monkeypatch):
    marts = write_marts(tmp_path / "marts")
    build_report(marts)
    expected = pages(marts / "report")
    (marts / "report" / "accounts" / "alpha.html").write_text("edited by hand")  # in place: its recorded bytes differ
    drawn.clear()
    build_report(marts)
    assert drawn == ["alpha"] and pages(marts / "report") == expected

    (marts / "report" / ".pages").unlink()  # a report from before the record of what each page was drawn from
    drawn.clear()
    build_report(marts)
    assert drawn == ["alpha", "beta"] and pages(marts / "report") == expected

    monkeypatch.setattr(render, "code_signature", lambda: "another version of the code")
    drawn.clear()
    build_report(marts)
    assert drawn == ["alpha", "beta"] and pages(marts / "report") == expected


def test_a_newly_published_mart_draws_the_pages_that_get_its_section(tmp_path, drawn):
    marts = write_marts(tmp_path / "marts")
    build_report(marts)
    assert "Engagement rates" not in (marts / "report" / "accounts" / "beta.html").read_text()
    # the scorecard, published for the first time, knows alpha only: beta's page gets the section, with no data
    scorecard = REPORT_MARTS["rpt_account_scorecard_daily"]
    target = marts / "rpt_account_scorecard_daily.parquet"
    duckdb.sql(f"copy (select * from ({scorecard}) where account_handle = 'alpha') to '{target}' (format parquet)")
    drawn.clear()
    build_report(marts, unless_current=True)
    assert drawn == ["alpha", "beta"]
    assert 'id="nodata-rates"' in (marts / "report" / "accounts" / "beta.html").read_text()


def page_keys(marts: Path) -> dict[str, str]:
    """Each account's page key, as the report computes it."""
    from orchestration.lib.report.data import Marts, accounts, newest_data_date
    from orchestration.lib.report.page_reuse import page_key
    from orchestration.lib.report.pages import account_pages

    m = Marts(marts)
    try:
        handles, newest = accounts(m), newest_data_date(m)
        pages = account_pages(m, handles, newest)
        return {h: page_key("code", newest, m.present, p, render.account_figures(p)) for h, p in pages.items()}
    finally:
        m.close()


# (the account whose page changes, mart, column, new value, which row): one value of one row, each a section
ONE_VALUE_CHANGES = [
    ("beta", "fct_follower_growth_daily", "followers", "4991", "account_handle = 'beta' and followers = 4990"),
    ("alpha", "fct_account_overview_daily", "likes", "51", "account_handle = 'alpha' and metric_date = '2026-01-02'"),
    ("alpha", "fct_video_engagement_daily", "views_total", "501", "video_id = '2' and views_total = 500"),
    ("alpha", "fct_follower_activity_hourly", "active_followers", "51", "hour = 5"),
    ("alpha", "fct_follower_gender_snapshot", "distribution", "0.55", "gender = 'Female' and distribution = 0.5"),
    ("alpha", "fct_follower_territory_snapshot", "snapshot_date", "date '2026-01-06'",
     "snapshot_date = '2026-01-05' and territory = 'GB'"),
    ("beta", "rpt_account_scorecard_daily", "engagement_rate_by_views", "0.06", "account_handle = 'beta'"),
    ("beta", "dim_videos", "video_title", "'Beta hit!'", "video_id = '3'"),
    ("alpha", "fct_live_sessions", "peak_viewers", "251", "true"),
    ("alpha", "fct_live_account_daily", "minutes_live", "61", "true"),
    ("alpha", "rpt_account_freshness", "exports_loaded", "6", "export_source = 'api_display'"),
]  # fmt: skip


@pytest.mark.parametrize(("changed", "mart", "column", "new", "where"), ONE_VALUE_CHANGES)
def test_one_value_of_one_account_changes_that_page_key_only(tmp_path, changed, mart, column, new, where):
    marts = write_marts(tmp_path / "marts", with_report_marts=True)
    before = page_keys(marts)
    republish(marts, mart, "select * from {old}")  # the same rows in a new file: the same keys
    assert page_keys(marts) == before
    republish(
        marts, mart, f"select * replace (case when {where} then {new} else {column} end as {column}) from {{old}}"
    )
    after = page_keys(marts)
    assert sorted(before) == sorted(after) == ["alpha", "beta"]
    assert [h for h in before if before[h] != after[h]] == [changed]
