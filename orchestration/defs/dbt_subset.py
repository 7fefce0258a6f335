"""Why a subset of the dbt assets (assets picked in the UI, checks left out, a re-execution "From asset failure", the
tiktok_api_repull job) cannot be built now: each message says why and what to run instead (defs/dbt.py)."""

from orchestration.lib.core.dbt_vars import REBUILD_VARS


# While a full refresh of the whole project is due, a subset is refused. "From failure" re-runs whole steps: the dbt
# step is no subset then.
def _subset_refusal(why: str, harm: str) -> str:
    return (
        f"dbt: {why}, so this run, which builds only some of the dbt assets (assets picked in the UI, checks left "
        f'out, a re-execution "From asset failure", or the tiktok_api_repull job), cannot build them: {harm}. Run '
        "the whole daily job instead (`python -m orchestration run`, or the daily_pipeline job in the UI; its "
        're-execution "From failure" re-runs whole steps and does it too).'
    )


SUBSET_REFUSED_VAR_CHANGED = _subset_refusal(
    f"a var that keys or shapes rows changed since the last whole build ({', '.join(REBUILD_VARS)})",
    "its marts would hold rows built under the new vars beside rows built under the old ones",
)
SUBSET_REFUSED_ZONE_MOVED = _subset_refusal(
    "an account's LIVE time zone changed with an API pull (accounts.yml) since the marts were built, and the next "
    "whole build is a full refresh",
    "its marts would keep the account's older LIVEs on the days of the old zone",
)
SUBSET_REFUSED_REFRESH_PENDING = _subset_refusal(
    "a full refresh of the whole project is pending (a replay asked for one, a var that keys or shapes rows changed, "
    "or an API pull changed a LIVE time zone, and no whole build has ended well since)",
    "its marts would keep rows the refresh removes or re-keys",
)
SUBSET_REFUSED_PROJECT_CHANGED = _subset_refusal(
    "the warehouse was built by another version of the dbt project (an upgrade or an edited model), and the next whole "
    "build is a full refresh",
    "its models would read tables the old version built, perhaps without a column the new one adds",
)


def landing_after_dbt(context) -> str | None:
    """Why a run of a few dbt assets, picked together with landing assets, must not build, or None. Dagster orders
    steps by the edges between the assets picked: with no picked model reading a picked raw table (the staging
    models between them left out), the dbt step ran first and rebuilt the marts from the raw tables as they were
    before this run's landing, shown as freshly built (review). Each landing step (Studio and LIVE files, the APIs)
    needs such an edge."""
    raw = {key for key in context.run.asset_selection or () if key.path[0] == "raw"}
    read = set().union(*(context.assets_def.asset_deps.get(key, set()) for key in context.selected_asset_keys))
    landings = (
        {k for k in raw if k.path[-1].startswith("api_")},
        {k for k in raw if not k.path[-1].startswith("api_")},
    )
    if not any(landed and not landed & read for landed in landings):
        return None
    return (
        "dbt: this run picks landing assets (raw/...) and dbt models none of which reads them directly, so Dagster "
        "may build the models before the landing, from the raw tables as they were: pick the staging and "
        "intermediate models between them too, or run the daily_pipeline job"
    )
