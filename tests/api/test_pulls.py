"""Account pulls end to end against the fake: archive, contracts, completeness, idempotent loads."""

from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime, timedelta

import pytest

from orchestration.lib.api.landing import SnapshotDayError, pull_account, pull_all
from orchestration.lib.core.dbt_selection import changed_sources, clear_changed_sources

from .conftest import T0, business_videos, display_videos, setup_business, setup_display, write_both_accounts
from .fake_tiktok import CLIENT_KEY, CLIENT_SECRET

DATA_TABLES = (
    "api_user_snapshots",
    "api_video_snapshots",
    "api_video_traffic_sources",
    "api_video_audience_countries",
    "api_video_audience_types",
    "api_business_daily",
    "api_business_audience_activity",
    "api_account_audience",
)


def _tables(con) -> dict[str, list[tuple]]:
    return {t: con.execute(f"select * from raw.{t} order by all").fetchall() for t in DATA_TABLES}


def _pull(paths, con, config, clock, sleeps, **kwargs):
    return pull_account(paths, con, config, config.accounts[0], now=clock, sleep=sleeps.append, **kwargs)


def test_a_complete_snapshot_lands_once_per_day_and_account(fake, paths, con, clock, sleeps):
    config, _ = setup_display(fake, paths, videos=30)
    first = _pull(paths, con, config, clock, sleeps)
    assert first.status == "complete", first.reason
    assert (first.videos_listed, first.videos_expected) == (30, 30)
    # user/info first (a video posted meanwhile lengthens the listing), then the listing in short pages: 7 + 20 + 3
    assert [(e.endpoint, e.pages) for e in first.endpoints] == [("user_info", 1), ("video_list", 3)]

    clock.advance(hours=5)
    fake.user["follower_count"] += 10
    fake.videos[0]["view_count"] += 500
    second = _pull(paths, con, config, clock, sleeps)
    assert second.status == "complete"
    days = con.execute(
        "select metric_date, count(*), max(views_total) from raw.api_video_snapshots group by 1"
    ).fetchall()
    assert days == [(date(2026, 5, 3), 30, 3900)]  # replaced, not appended; the newer numbers won
    assert con.execute("select follower_count from raw.api_user_snapshots").fetchall() == [(15244,)]

    clock.advance(days=1)
    assert _pull(paths, con, config, clock, sleeps).status == "complete"
    per_day = con.execute("select metric_date, count(*) from raw.api_video_snapshots group by 1 order by 1").fetchall()
    assert per_day == [(date(2026, 5, 3), 30), (date(2026, 5, 4), 30)]


def test_a_rerun_with_the_same_answers_changes_nothing(fake, paths, con, clock, sleeps):
    config, _ = setup_business(fake, paths)
    assert _pull(paths, con, config, clock, sleeps).status == "complete"
    # recorded with the rows, in their transaction: the next build rebuilds what reads them even if the process
    # dies before the step records its own list (a rerun of the same answers would find nothing changed)
    assert changed_sources(con) == {*DATA_TABLES, "api_pulls"}
    clear_changed_sources(con, changed_sources(con))
    before = _tables(con)
    pending = con.execute("select * from landing.pending_rebuild").fetchall()
    clock.advance(minutes=30)
    rerun = _pull(paths, con, config, clock, sleeps)
    assert rerun.status == "unchanged"
    assert _tables(con) == before  # not one row rewritten, lineage included
    assert con.execute("select * from landing.pending_rebuild").fetchall() == pending
    assert changed_sources(con) == {"api_pulls"}  # its status rows only
    statuses = con.execute("select status, count(*) from raw.api_pulls group by 1 order by 1").fetchall()
    assert statuses == [("complete", 2), ("unchanged", 2)]


def test_a_failure_mid_pagination_publishes_nothing_for_that_account_and_day(fake, paths, con, clock, sleeps):
    config, _ = setup_display(fake, paths, videos=30)
    assert _pull(paths, con, config, clock, sleeps).status == "complete"
    yesterday = _tables(con)

    clock.advance(days=1)
    fake.add_fault("video_list", "500", page=2, times=99)
    result = _pull(paths, con, config, clock, sleeps)
    assert result.status == "incomplete"
    assert "video_list" in result.reason and "HTTP 500" in result.reason
    assert _tables(con) == yesterday  # nothing of 2026-05-04, and 2026-05-03 untouched
    pulls = con.execute(
        "select endpoint, status, pages, rows_loaded from raw.api_pulls where metric_date = ?",
        [date(2026, 5, 4)],
    ).fetchall()
    assert sorted(pulls) == [("user_info", "incomplete", 1, 0), ("video_list", "incomplete", 1, 0)]  # none loaded
    # what was received is archived anyway, with the failed attempts
    archived = json.loads(
        (
            paths.archive
            / con.execute(
                "select archive_path from raw.api_pulls where metric_date = ? and endpoint = 'video_list'",
                [date(2026, 5, 4)],
            ).fetchone()[0]
        ).read_text()
    )
    statuses = [x["response"]["status"] for x in archived["exchanges"]]
    assert statuses[0] == 200 and set(statuses[1:]) == {500}


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("malformed", "the body is not JSON"),
        ("envelope", "unexpected envelope"),
    ],
)
def test_a_bad_body_fails_that_account_only(fake, paths, con, clock, sleeps, fault, words):
    setup_business(fake, paths)
    setup_display(fake, paths)
    config = write_both_accounts(fake, paths)
    fake.add_fault("user_info", fault)
    results = {r.handle: r for r in pull_all(paths, con, config, now=clock, sleep=sleeps.append)}
    assert results["techcreator"].status == "failed" and words in results["techcreator"].reason
    assert results["shop"].status == "complete"
    assert con.execute("select distinct account_handle from raw.api_video_snapshots").fetchall() == [("shop",)]


def test_a_missing_field_fails_with_the_item_named(fake, paths, con, clock, sleeps):
    config, _ = setup_display(fake, paths, videos=5)
    del fake.videos[3]["view_count"]
    result = _pull(paths, con, config, clock, sleeps)
    assert result.status == "failed"
    assert "video_list item 4" in result.reason and "`view_count` is missing" in result.reason
    assert _tables(con)["api_video_snapshots"] == []


def test_a_contract_violation_loads_nothing(fake, paths, con, clock, sleeps):
    config, _ = setup_business(fake, paths, videos=3)
    fake.business_videos[1]["full_video_watched_rate"] = 37.5  # a percent where a fraction belongs
    result = _pull(paths, con, config, clock, sleeps)
    assert result.status == "failed" and "full_video_watched_rate" in result.reason
    assert all(rows == [] for rows in _tables(con).values())


def test_fewer_videos_than_the_profile_counts_is_incomplete_unless_explained(fake, paths, con, clock, sleeps):
    config, _ = setup_display(fake, paths, videos=10)
    fake.user["video_count"] = 12  # two videos the listing does not show
    result = _pull(paths, con, config, clock, sleeps)
    assert result.status == "incomplete"
    assert "listed 10 videos but the profile counts 12" in result.reason and "unlisted_videos: 2" in result.reason
    assert _tables(con)["api_video_snapshots"] == []

    config, _ = setup_display(fake, paths, videos=10, unlisted_videos=2)
    fake.user["video_count"] = 12
    assert _pull(paths, con, config, clock, sleeps).status == "complete"

    # the next day a video is gone (deleted or made private): explained by the history, not an error
    clock.advance(days=1)
    removed = fake.videos.pop(4)
    fake.user["video_count"] = 12  # TikTok's count lags
    assert _pull(paths, con, config, clock, sleeps).status == "complete"
    assert removed["id"] not in {
        v
        for (v,) in con.execute(
            "select video_id from raw.api_video_snapshots where metric_date = '2026-05-04'"
        ).fetchall()
    }


def test_a_video_posted_between_the_two_calls_does_not_hold_the_day_back(fake, paths, con, clock, sleeps):
    """Whichever of user/info and video/list TikTok answers first, a video posted right after it: asked for the
    listing first, the count then exceeded it (an unexplained shortfall of 1: the day's followers and snapshot not
    loaded, and advice to loosen the check for good). The count first: the listing is one longer, which is fine."""
    config, _ = setup_display(fake, paths, videos=30)
    newer = display_videos(31, newest=T0 + timedelta(hours=1))[0]  # posted during the pull
    answered = {"user_info": fake._user_info, "video_list": fake._video_list}

    def then_post(handler):
        def answer(query, body, token):
            reply = handler(query, body, token)
            if newer not in fake.videos:
                fake.videos.insert(0, newer)
                fake.user["video_count"] = len(fake.videos)
            return reply

        return answer

    for name, handler in answered.items():
        setattr(fake, f"_{name}", then_post(handler))
    result = _pull(paths, con, config, clock, sleeps)
    assert (result.status, result.videos_listed, result.videos_expected) == ("complete", 31, 30), result.reason


def test_a_video_listed_again_on_the_next_page_counts_once(fake, paths, con, clock, sleeps):
    """A video posted while the listing is paged shifts the pages: the last video of page 1 comes again on page 2.
    The whole day failed on the contract's one row per video (review); the repeat is dropped instead."""
    config, _ = setup_display(fake, paths, videos=30)
    first_page = fake._video_list
    newer = display_videos(31, newest=T0 + timedelta(hours=1))[0]

    def then_post(query, body, token):
        reply = first_page(query, body, token)
        if newer not in fake.videos:
            fake.videos.insert(0, newer)
        return reply

    fake._video_list = then_post
    result = _pull(paths, con, config, clock, sleeps)
    assert (result.status, result.videos_listed, result.videos_expected) == ("complete", 30, 30), result.reason
    assert con.execute("select count(*), count(distinct video_id) from raw.api_video_snapshots").fetchone() == (30, 30)


def test_a_video_gone_after_a_handle_change_is_explained_by_the_listing_under_the_former_handle(
    fake, paths, con, clock, sleeps, monkeypatch
):
    """The account is renamed in accounts.yml (account_handle_aliases names the former handle): yesterday's listing
    was booked under the former handle, and still explains a video gone today."""
    from orchestration.lib.api import load

    config, _ = setup_display(fake, paths, handle="old_name", videos=10)
    assert _pull(paths, con, config, clock, sleeps).status == "complete"
    clock.advance(days=1)
    config, _ = setup_display(fake, paths, handle="new.name", videos=10)
    fake.videos.pop(4)
    fake.user["video_count"] = 10  # TikTok's count lags
    assert _pull(paths, con, config, clock, sleeps).status == "incomplete"  # without the alias: unexplained
    monkeypatch.setattr(load, "handle_aliases", lambda: {"old_name": "new.name"})
    assert _pull(paths, con, config, clock, sleeps).status == "complete"


def test_a_snapshot_cannot_be_pulled_for_a_past_day(fake, paths, con, clock, sleeps):
    config, _ = setup_display(fake, paths)
    with pytest.raises(SnapshotDayError, match="cannot fill 2026-05-01"):
        _pull(paths, con, config, clock, sleeps, requested_day=date(2026, 5, 1))
    with pytest.raises(SnapshotDayError, match="has not begun"):
        _pull(paths, con, config, clock, sleeps, requested_day=date(2026, 5, 5))
    assert fake.api_requests() == []  # refused before any network call
    assert con.execute("select count(*) from raw.api_pulls").fetchone() == (0,)


def test_business_backfill_books_tiktoks_utc_dates_and_no_snapshot(fake, paths, con, clock, sleeps):
    config, _ = setup_business(fake, paths)
    result = _pull(paths, con, config, clock, sleeps, requested_day=date(2026, 3, 20))
    assert result.status == "complete" and result.plan.purpose == "daily_metrics"
    (call,) = fake.api_requests()
    assert (call.endpoint, call.query["start_date"], call.query["end_date"]) == (
        "business_get",
        "2026-03-20",
        "2026-03-20",
    )
    assert con.execute("select metric_date, video_views from raw.api_business_daily").fetchall() == [
        (date(2026, 3, 20), 119)
    ]
    assert con.execute("select count(*) from raw.api_business_audience_activity").fetchone() == (24,)
    assert con.execute("select count(*) from raw.api_user_snapshots").fetchone() == (0,)
    with pytest.raises(SnapshotDayError, match="about 60 days"):
        _pull(paths, con, config, clock, sleeps, requested_day=date(2026, 2, 1))


def test_snapshot_date_is_the_day_in_the_accounts_time_zone(fake, paths, con, clock, sleeps):
    # 2026-05-03 23:30 UTC: already 05-04 in Berlin, still 05-03 in Los Angeles
    clock.now = datetime(2026, 5, 3, 23, 30, tzinfo=UTC)
    config, _ = setup_display(fake, paths, handle="berlin", timezone="Europe/Berlin")
    assert _pull(paths, con, config, clock, sleeps).plan.snapshot_date == date(2026, 5, 4)
    config, _ = setup_display(fake, paths, handle="la", timezone="America/Los_Angeles")
    assert _pull(paths, con, config, clock, sleeps).plan.snapshot_date == date(2026, 5, 3)
    assert con.execute("select account_handle, metric_date from raw.api_user_snapshots order by 1").fetchall() == [
        ("berlin", date(2026, 5, 4)),
        ("la", date(2026, 5, 3)),
    ]
    # post dates are local too: a video created 23:00 UTC on 05-02 was posted on 05-03 in Berlin
    config, _ = setup_display(fake, paths, handle="berlin2", timezone="Europe/Berlin", videos=1)
    fake.videos = display_videos(1, newest=datetime(2026, 5, 2, 23, 0, tzinfo=UTC))
    _pull(paths, con, config, clock, sleeps)
    assert con.execute("select post_date from raw.api_video_snapshots where account_handle = 'berlin2'").fetchall() == [
        (date(2026, 5, 3),)
    ]


def test_business_create_time_as_string_or_integer(fake, paths, con, clock, sleeps):
    config, _ = setup_business(fake, paths, videos=4)
    assert {type(v["create_time"]) for v in business_videos(4)} == {str, int}
    assert _pull(paths, con, config, clock, sleeps).status == "complete"
    assert con.execute("select count(distinct created_at) from raw.api_video_snapshots").fetchone() == (4,)


def test_archive_keeps_every_response_as_received_read_only_with_a_manifest(fake, paths, con, clock, sleeps):
    config, _ = setup_display(fake, paths, videos=30)
    fake.add_fault("video_list", "429", page=2)
    result = _pull(paths, con, config, clock, sleeps)
    video_list = next(e for e in result.endpoints if e.endpoint == "video_list")
    stored = paths.archive / video_list.archive_path
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444
    wrapper = json.loads(stored.read_text())
    assert wrapper["account_handle"] == "techcreator" and wrapper["snapshot_date"] == "2026-05-03"
    assert wrapper["pulled_at"].startswith("2026-05-03T12:00:00")
    requests = [x["request"] for x in wrapper["exchanges"]]
    assert [r["body"].get("cursor") for r in requests] == [
        None,
        1_700_000_000_007,
        1_700_000_000_007,
        1_700_000_000_027,
    ]
    assert all("fields" in r["query"] for r in requests)
    bodies = [json.loads(x["response"]["body_text"]) for x in wrapper["exchanges"]]
    assert [len(b["data"].get("videos", [])) for b in bodies] == [7, 0, 20, 3]
    manifest = [json.loads(line) for line in (paths.archive / "api" / "manifest.jsonl").read_text().splitlines()]
    assert {m["archive_path"] for m in manifest} == {e.archive_path for e in result.endpoints}
    assert con.execute("select count(*) from raw.api_pulls where archive_sha256 is not null").fetchone() == (2,)


def test_no_token_appears_in_any_file_written_outside_the_secrets(fake, paths, con, clock, sleeps, caplog):
    config, token_file = setup_business(fake, paths, obtained_at=T0 - timedelta(days=2))  # refreshes first
    fake.add_fault("business_video_list", "business_auth")  # and once more after a 401-style answer
    fake.add_fault("business_get", "malformed")
    assert _pull(paths, con, config, clock, sleeps).status == "failed"
    clock.advance(hours=1)
    assert _pull(paths, con, config, clock, sleeps).status == "complete"
    secrets = {t for pair in fake.issued_by_refresh for t in pair} | fake.access_tokens | {CLIENT_SECRET, CLIENT_KEY}
    assert len(fake.issued_by_refresh) >= 2
    con.execute("checkpoint")
    leaks = []
    for path in paths.root.rglob("*"):
        if path.is_file() and path.parent != token_file.parent:
            data = path.read_bytes()
            leaks += [(path.name, s[:8]) for s in secrets if s.encode() in data]
    assert leaks == []
    assert not any(s in caplog.text for s in secrets)
