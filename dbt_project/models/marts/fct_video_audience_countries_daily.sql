-- One row per Business-account video per snapshot day per viewer country: the share of the video's
-- viewers from that country, next to the lifetime views it applies to.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_handle', 'metric_date'],
        on_schema_change='fail'
    )
}}
{#- unique_key is the whole day of an account: a country missing from a newer pull cannot linger. -#}

select
    countries.account_handle,
    countries.video_id,
    countries.metric_date,
    countries.country,
    countries.share,
    videos.views_total
from {{ ref('stg_tiktok_api__video_audience_countries') }} as countries
left join {{ ref('stg_tiktok_api__video_snapshots') }} as videos
    on countries.account_handle = videos.account_handle
    and countries.video_id = videos.video_id
    and countries.metric_date = videos.metric_date
where {{ incremental_window('countries.metric_date') }}
