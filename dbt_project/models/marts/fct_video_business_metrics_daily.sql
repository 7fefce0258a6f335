-- One row per Business-account video per snapshot day: the richer lifetime metrics only the Business
-- API gives (reach, watch time, completion), observed by the day's newest complete pull.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ replace_build_window('metric_date') }}",
        on_schema_change='fail'
    )
}}
{#- The days from min_date are built again whole (replace_build_window), not video by video: a video a same-day
    API re-pull no longer sees (deleted, made private) leaves its day, where delete+insert by video kept it. -#}

select
    account_handle,
    video_id,
    metric_date,
    views_total,
    reach_total,
    total_time_watched_s,
    average_time_watched_s,
    full_video_watched_rate,
    favorites_total,
    new_followers_total,
    profile_views_total
from {{ ref('stg_tiktok_api__video_snapshots') }}
where
    api = 'business'
    and {{ incremental_window('metric_date') }}
