"""A same-day re-pull that no longer sees a video (deleted or made private since the morning's pull) takes that
video's day out of the video marts, as a full refresh does: the rows of a day built again cannot linger
(`replace_build_window`; before, delete+insert by video kept the vanished video's day, with its gains counted again
by the next day's row, review)."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from orchestration.lib.api.landing import pull_account
from orchestration.lib.core.warehouse import connect
from tests.dbt_runner import mart_tables, planned_build

from .conftest import T0, setup_business, setup_display, write_both_accounts

VIDEO_MARTS = ("fct_video_engagement_daily", "fct_video_business_metrics_daily")


def _video_days(paths) -> dict[str, list[tuple]]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return {
            mart: con.execute(
                f"select account_handle, video_id, metric_date::varchar from marts.{mart} order by all"
            ).fetchall()
            for mart in VIDEO_MARTS
        }


def test_a_same_day_repull_without_a_video_takes_its_day_out_of_the_video_marts(fake, paths, tmp_path, dbt):
    setup_business(fake, paths, videos=2)
    setup_display(fake, paths, videos=2)
    config = write_both_accounts(fake, paths)

    def pull(moment) -> None:
        with connect(paths.warehouse) as con:
            for handle in ("techcreator", "shop"):
                account = config.account(handle)
                result = pull_account(paths, con, config, account, now=lambda: moment, sleep=lambda s: None)
                assert result.status == "complete", result.reason

    pull(T0)  # May 3, 12:00 UTC: two videos each
    planned_build(paths, dbt, tmp_path / "target")
    display = [v["id"] for v in fake.videos]  # newest first: ...002, ...001
    business = [v["item_id"] for v in fake.business_videos]
    assert _video_days(paths) == {
        "fct_video_engagement_daily": sorted(
            [("shop", v, "2026-05-03") for v in business] + [("techcreator", v, "2026-05-03") for v in display]
        ),
        "fct_video_business_metrics_daily": sorted(("shop", v, "2026-05-03") for v in business),
    }

    # six hours later, still May 3 in Berlin (20:00) and Los Angeles (11:00): each account's older video is gone
    fake.videos, fake.business_videos = fake.videos[:1], fake.business_videos[:1]
    fake.user["video_count"] = fake.business_profile["videos_count"] = 1
    pull(T0 + timedelta(hours=6))
    planned_build(paths, dbt, tmp_path / "target")
    assert _video_days(paths) == {
        "fct_video_engagement_daily": [("shop", business[0], "2026-05-03"), ("techcreator", display[0], "2026-05-03")],
        "fct_video_business_metrics_daily": [("shop", business[0], "2026-05-03")],
    }
    built = mart_tables(paths)
    planned_build(paths, dbt, tmp_path / "target", full_refresh=True)
    assert mart_tables(paths) == built
