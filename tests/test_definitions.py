"""The asset graph: importing is free of side effects, and lineage runs unbroken from landing to every mart."""

import subprocess
import sys

import dagster as dg

from orchestration.lib.core.paths import PROJECT_ROOT

STUDIO_MARTS = {
    "dim_accounts",
    "dim_videos",
    "fct_account_overview_daily",
    "fct_follower_activity_hourly",
    "fct_follower_gender_snapshot",
    "fct_follower_growth_daily",
    "fct_follower_territory_snapshot",
    "fct_video_engagement_daily",
    "rpt_trending_videos_7d",
    # behind the HTML report and the alerts (issue 9)
    "rpt_account_freshness",
    "rpt_quarantined_files",
    "rpt_account_scorecard_daily",
    "rpt_video_outliers_daily",
}
# TikTok Business API only (empty without a Business account, published all the same)
API_ONLY_MARTS = {
    "fct_video_business_metrics_daily",
    "fct_video_traffic_sources_daily",
    "fct_video_audience_countries_daily",
}
# TikTok LIVE (issue 8): LIVE logs, Backstage and LIVE Center files land from the inbox like the Studio exports
# (empty without LIVE data, published all the same); each mart names the raw LIVE table it must reach.
LIVE_MARTS = {
    "fct_live_sessions": "raw/live_events",
    "fct_live_viewers_minutely": "raw/live_events",
    "fct_live_gifts": "raw/live_events",
    "fct_live_backstage_daily": "raw/live_backstage_creators",
    "fct_live_account_daily": "raw/live_center_activity",
}
EXPECTED_MARTS = STUDIO_MARTS | API_ONLY_MARTS | set(LIVE_MARTS)


def test_importing_the_definitions_does_no_work():
    code = (
        "import sys, orchestration.definitions; "
        "assert 'great_expectations' not in sys.modules and 'dagster_dbt' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True)


def test_every_published_mart_traces_back_to_where_its_data_lands(dbt_manifest):
    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    published = {k.removeprefix("published/") for k in keys if k.startswith("published/")}
    assert published == EXPECTED_MARTS
    for mart in EXPECTED_MARTS:
        upstream = {k.to_user_string() for k in graph.upstream_key_iterator(dg.AssetKey(["published", mart]))}
        assert f"marts/{mart}" in upstream
        if mart in STUDIO_MARTS:
            assert "raw/inbox" in upstream, f"{mart} is not connected to the inbox"
        elif mart in LIVE_MARTS:
            assert {"raw/inbox", LIVE_MARTS[mart]} <= upstream, f"{mart} is not connected to the inbox"
        else:
            assert "raw/api_video_snapshots" in upstream and "raw/inbox" not in upstream, upstream
    # dbt tests appear as asset checks, and each published mart has its great-expectations check
    check_keys = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert {(f"published/{m}", "great_expectations") for m in EXPECTED_MARTS} <= check_keys
    dbt_checked = {key.removeprefix("marts/") for key, _ in check_keys if key.startswith("marts/")}
    assert dbt_checked == EXPECTED_MARTS, "every mart's grain is tested by dbt"
