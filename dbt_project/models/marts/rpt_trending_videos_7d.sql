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

exact_baselines as (
    -- the snapshot exactly window_days earlier: a full window. Every baseline comes from the same source
    -- as the as_of_date snapshot: Studio and API numbers never match exactly, and their gap is not growth
    select
        candidates.account_handle,
        candidates.as_of_date,
        candidates.video_id,
        baseline.views_total as baseline_views
    from candidates
    inner join snapshots as baseline
        on candidates.account_handle = baseline.account_handle
        and candidates.video_id = baseline.video_id
        and candidates.snapshot_source = baseline.snapshot_source
        and candidates.window_start_date = baseline.metric_date
),

mid_window_baselines as (
    -- otherwise the earliest snapshot (same source) strictly inside the window: a shorter window
    select
        candidates.account_handle,
        candidates.as_of_date,
        candidates.video_id,
        arg_min(baseline.views_total, baseline.metric_date) as baseline_views
    from candidates
    inner join snapshots as baseline
        on candidates.account_handle = baseline.account_handle
        and candidates.video_id = baseline.video_id
        and candidates.snapshot_source = baseline.snapshot_source
        and candidates.window_start_date < baseline.metric_date
        and candidates.as_of_date > baseline.metric_date
    group by candidates.account_handle, candidates.as_of_date, candidates.video_id
),

baselined as (
    select
        candidates.account_handle,
        candidates.as_of_date,
        candidates.video_id,
        candidates.post_date,
        candidates.views_total,
        case
            when exact_baselines.video_id is not null then exact_baselines.baseline_views
            -- posted inside the window: all of its views are window growth
            when candidates.post_date > candidates.window_start_date then 0
            else mid_window_baselines.baseline_views
        end as baseline_views,
        case
            when exact_baselines.video_id is not null then true
            when candidates.post_date > candidates.window_start_date then true
            when mid_window_baselines.video_id is not null then false
        end as has_full_window
    from candidates
    left join exact_baselines
        on candidates.account_handle = exact_baselines.account_handle
        and candidates.as_of_date = exact_baselines.as_of_date
        and candidates.video_id = exact_baselines.video_id
    left join mid_window_baselines
        on candidates.account_handle = mid_window_baselines.account_handle
        and candidates.as_of_date = mid_window_baselines.as_of_date
        and candidates.video_id = mid_window_baselines.video_id
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
