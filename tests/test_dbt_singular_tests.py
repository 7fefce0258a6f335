"""The singular tests (dbt_project/tests/*.sql) look at what a narrowed daily build wrote: the days from
tests_from_date() on (macro `tests_window`), every row on a whole build. A day broken inside the window still
fails them; one before it no longer does (a whole build tested it when it was written)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestration.devtools.demo import generate_demo_inbox
from orchestration.lib.core.warehouse import connect
from tests.dbt_runner import run_results
from tests.studio_fixtures import land, new_paths

SINGULAR = (
    "assert_follower_change_matches_spine",
    "assert_follower_growth_keeps_every_known_count",
    "assert_overview_video_views_reconcile_with_staging",
    "assert_video_engagement_has_one_row_per_snapshot",
    "assert_viewers_total_is_new_plus_returning",
)


@pytest.fixture(scope="module")
def broken_day(tmp_path_factory, dbt):
    """The demo's Studio files built by dbt, then one day ten days before the last broken in each mart a singular
    test reads (an account's overview and followers, a video's snapshot)."""
    root = tmp_path_factory.mktemp("singular-tests")
    paths = new_paths(root)
    generate_demo_inbox(paths.inbox, live=False)
    land(paths)
    dbt(paths, ["run"], root / "build")
    with connect(paths.warehouse) as con:
        account, day = con.execute(
            """select account_handle, max(metric_date) - 10 from marts.fct_account_overview_daily
            group by 1 order by 1 limit 1"""
        ).fetchone()
        where = f"account_handle = '{account}' and metric_date = '{day}'"
        overview = f"""update marts.fct_account_overview_daily
            set video_views = video_views + 1, total_viewers = new_viewers + returning_viewers + 1
            where {where} and video_views is not null and new_viewers is not null and returning_viewers is not null"""
        # one follower fewer: not the account's highest count, which a test comparing maxima missed (review)
        growth = f"""update marts.fct_follower_growth_daily
            set followers = followers - 1 where {where} and followers is not null"""
        videos = f"""delete from marts.fct_video_engagement_daily where rowid = (
            select min(rowid) from marts.fct_video_engagement_daily where metric_date = '{day}')"""
        changed = [con.execute(statement).fetchone()[0] for statement in (overview, growth, videos)]
        assert changed == [1, 1, 1], changed  # the demo knows each of these figures on that day
    return paths, root, day


def _failures(paths, root, dbt, tests_from) -> dict[str, int]:
    target = root / f"test-{tests_from}"
    env = {"TIKTOK_DBT_TESTS_FROM": tests_from.isoformat() if tests_from else ""}
    dbt.invoke(paths.root, ["test", "--select", " ".join(SINGULAR)], target, env)
    return {r["unique_id"].split(".")[-1]: r["failures"] for r in run_results(target)}


def test_a_broken_day_fails_every_singular_test_while_it_is_in_the_window(broken_day, dbt):
    paths, root, day = broken_day
    for tests_from in (None, day):  # a whole build (every row), a daily build that rewrote that day
        failures = _failures(paths, root, dbt, tests_from)
        assert set(failures) == set(SINGULAR) and all(failures.values()), (tests_from, failures)
    # a week and a day later: the 7-day change of the day a week after it (which reads it) is out of the window too
    assert _failures(paths, root, dbt, day + timedelta(days=8)) == dict.fromkeys(SINGULAR, 0)
