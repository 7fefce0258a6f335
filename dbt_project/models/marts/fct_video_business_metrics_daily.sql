-- One row per Business-account video per snapshot day: the richer lifetime metrics only the Business
-- API gives (reach, watch time, completion), observed by the day's newest complete pull.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_handle', 'video_id', 'metric_date'],
        on_schema_change='fail'
    )
}}

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
