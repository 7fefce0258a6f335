-- One row per Business-account video per snapshot day per traffic source: the share of the video's
-- views from that source (For You, Follow, Search, ...), next to the lifetime views it applies to.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_handle', 'metric_date'],
        on_schema_change='fail'
    )
}}
{#- unique_key is the whole day of an account: a source missing from a newer pull cannot linger. -#}

select
    traffic.account_handle,
    traffic.video_id,
    traffic.metric_date,
    traffic.impression_source,
    traffic.share,
    videos.views_total
from {{ ref('stg_tiktok_api__video_traffic_sources') }} as traffic
left join {{ ref('stg_tiktok_api__video_snapshots') }} as videos
    on traffic.account_handle = videos.account_handle
    and traffic.video_id = videos.video_id
    and traffic.metric_date = videos.metric_date
where {{ incremental_window('traffic.metric_date') }}
