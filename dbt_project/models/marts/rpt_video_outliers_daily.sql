-- One row per video per day a snapshot saw it: its 7-day view growth against the median of the
-- account's videos of the same age that day (outlier score), and whether that makes it a breakout.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ replace_build_window('metric_date') }}",
        on_schema_change='fail'
    )
}}
{#- A row reads the snapshots of its own day and of 7 days before, and its day's peers: a snapshot of day d
    changes rows of d and d + 7 only, both >= min_date. Every row from min_date on is deleted and computed
    again (replace_build_window), so a video that left a day's rows cannot linger. -#}
{%- set bounds = var('outlier_age_buckets') %}
{%- set lower = namespace(day=0) %}

with snapshots as (
    -- a snapshot without a view count has no growth and is no baseline
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

growth as (
    -- full windows only (trending's rules 1 and 2): the same-source snapshot exactly 7 days earlier, or 0
    -- for a video posted inside the window. A shorter window would not compare with its peers' 7 days.
    -- 7 is this mart's definition, named by its column (views_gained_7d), not a knob: trending's window is.
    select
        snapshots.account_handle,
        snapshots.video_id,
        snapshots.metric_date,
        snapshots.post_date,
        snapshots.views_total,
        snapshots.metric_date - snapshots.post_date as days_since_post,
        case
            when baseline.video_id is not null then snapshots.views_total - baseline.views_total
            when snapshots.post_date > snapshots.metric_date - 7 then snapshots.views_total
        end as views_gained_7d
    from snapshots
    left join snapshots as baseline
        on snapshots.account_handle = baseline.account_handle
        and snapshots.video_id = baseline.video_id
        and snapshots.snapshot_source = baseline.snapshot_source
        and snapshots.metric_date - 7 = baseline.metric_date
),

bucketed as (
    select
        *,
        case
            {%- for upper in bounds %}
                when days_since_post <= {{ upper }} then '{{ lower.day }}-{{ upper }}d'
                {%- set lower.day = upper + 1 %}
            {%- endfor %}
            when days_since_post is not null then '{{ lower.day }}+d'
        end as age_bucket
    from growth
),

peers as (
    -- the video itself is one of its peers: a window median stays cheap for accounts with many videos
    select
        *,
        count(views_gained_7d) over bucket_day as peer_videos,
        median(views_gained_7d) over bucket_day as peer_median_views_gained_7d
    from bucketed
    window bucket_day as (partition by account_handle, metric_date, age_bucket)
),

scored as (
    select
        *,
        case
            when
                age_bucket is not null
                and peer_videos >= {{ var('outlier_min_peers') }}
                and peer_median_views_gained_7d > 0
                then {{ safe_divide('views_gained_7d', 'peer_median_views_gained_7d') }}
        end as outlier_score
    from peers
)

select
    account_handle,
    video_id,
    metric_date,
    post_date,
    days_since_post,
    age_bucket,
    views_total,
    views_gained_7d,
    case when age_bucket is not null then peer_videos end as peer_videos,
    case when age_bucket is not null then peer_median_views_gained_7d end as peer_median_views_gained_7d,
    outlier_score,
    coalesce(outlier_score >= {{ var('outlier_breakout_score') }}, false) as is_breakout
from scored
-- output rows only: the baselines and the peers above still see the whole history
where {{ incremental_window('metric_date') }}
