-- One row per account per as_of_date per trending_rank: TikTok's "top nine videos with the fastest
-- growth in views over the past seven days", for every day the account has a video snapshot.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_handle', 'as_of_date'],
        on_schema_change='fail'
    )
}}
{#- The unique_key is the whole ranking of a day, not one rank: a recomputed day replaces all of its
    rows, so a video that dropped out of the top N cannot linger. -#}

{%- set window_days = var('trending_window_days') -%}
{#- The growth column is named after the window (views_gained_7d by default), so it never claims a
    window it does not measure when trending_window_days changes. -#}
{%- set gained_column = 'views_gained_' ~ window_days ~ 'd' -%}

with snapshots as (
    -- a snapshot without a view count can neither be ranked nor serve as a baseline
    select
        account_handle,
        video_id,
        metric_date,
        post_date,
        views_total,
        snapshot_source
    from {{ ref('int_video_snapshots__unioned') }}
    where views_total is not null
),

candidates as (
    -- every video seen on as_of_date; output rows only, baselines below look at all history
    select
        account_handle,
        metric_date as as_of_date,
        metric_date - {{ window_days }} as window_start_date,
        video_id,
        post_date,
        views_total,
        snapshot_source
    from snapshots
    where {{ incremental_window('metric_date') }}
),

with_exact_baseline as (
    -- the snapshot exactly window_days earlier: a full window. Every baseline comes from the same source
    -- as the as_of_date snapshot: Studio and API numbers never match exactly, and their gap is not growth.
    -- At most one: one snapshot per video and day.
    select
        candidates.*,
        baseline.video_id is not null as has_exact_baseline,
        baseline.views_total as exact_baseline_views
    from candidates
    left join snapshots as baseline
        on candidates.account_handle = baseline.account_handle
        and candidates.video_id = baseline.video_id
        and candidates.snapshot_source = baseline.snapshot_source
        and candidates.window_start_date = baseline.metric_date
),

mid_window_baselines as (
    -- otherwise the earliest snapshot (same source) strictly inside the window: a shorter window. Only for
    -- the videos without an exact baseline and not posted inside the window (a tenth of them): the others
    -- never read it, and this range join is the model's largest
    select
        with_exact_baseline.account_handle,
        with_exact_baseline.as_of_date,
        with_exact_baseline.video_id,
        arg_min(baseline.views_total, baseline.metric_date) as baseline_views
    from with_exact_baseline
    inner join snapshots as baseline
        on with_exact_baseline.account_handle = baseline.account_handle
        and with_exact_baseline.video_id = baseline.video_id
        and with_exact_baseline.snapshot_source = baseline.snapshot_source
        and with_exact_baseline.window_start_date < baseline.metric_date
        and with_exact_baseline.as_of_date > baseline.metric_date
    where
        not with_exact_baseline.has_exact_baseline
        and (with_exact_baseline.post_date > with_exact_baseline.window_start_date) is not true
    group by with_exact_baseline.account_handle, with_exact_baseline.as_of_date, with_exact_baseline.video_id
),

baselined as (
    select
        with_exact_baseline.account_handle,
        with_exact_baseline.as_of_date,
        with_exact_baseline.video_id,
        with_exact_baseline.post_date,
        with_exact_baseline.views_total,
        case
            when with_exact_baseline.has_exact_baseline then with_exact_baseline.exact_baseline_views
            -- posted inside the window: all of its views are window growth
            when with_exact_baseline.post_date > with_exact_baseline.window_start_date then 0
            else mid_window_baselines.baseline_views
        end as baseline_views,
        case
            when with_exact_baseline.has_exact_baseline then true
            when with_exact_baseline.post_date > with_exact_baseline.window_start_date then true
            when mid_window_baselines.video_id is not null then false
        end as has_full_window
    from with_exact_baseline
    left join mid_window_baselines
        on with_exact_baseline.account_handle = mid_window_baselines.account_handle
        and with_exact_baseline.as_of_date = mid_window_baselines.as_of_date
        and with_exact_baseline.video_id = mid_window_baselines.video_id
),

ranked as (
    -- no baseline, no rank; row_number keeps ranks unique, ties go to the lower video_id
    select
        account_handle,
        as_of_date,
        video_id,
        views_total - baseline_views as {{ gained_column }},
        views_total,
        post_date,
        has_full_window,
        row_number() over (
            partition by account_handle, as_of_date
            order by views_total - baseline_views desc, video_id asc
        ) as trending_rank
    from baselined
    where has_full_window is not null
)

select
    account_handle,
    as_of_date,
    trending_rank,
    video_id,
    {{ gained_column }},
    views_total,
    post_date,
    has_full_window
from ranked
where trending_rank <= {{ var('trending_top_n') }}
