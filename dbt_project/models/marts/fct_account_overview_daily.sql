-- One row per account per metric_date: Overview totals next to Viewers counts.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_handle', 'metric_date'],
        on_schema_change='fail'
    )
}}

with overview as (
    select
        account_handle,
        metric_date,
        video_views,
        profile_views,
        likes,
        comments,
        shares,
        export_date
    from {{ ref('stg_studio__overview') }}
    where {{ incremental_window('metric_date') }}
),

viewers as (
    select
        account_handle,
        metric_date,
        total_viewers,
        new_viewers,
        returning_viewers,
        export_date
    from {{ ref('stg_studio__viewers') }}
    where {{ incremental_window('metric_date') }}
),

joined as (
    -- full outer join: a day may come from only one of the two sections
    select
        coalesce(overview.account_handle, viewers.account_handle) as account_handle,
        coalesce(overview.metric_date, viewers.metric_date) as metric_date,
        overview.video_views,
        overview.profile_views,
        overview.likes,
        overview.comments,
        overview.shares,
        viewers.total_viewers,
        viewers.new_viewers,
        viewers.returning_viewers,
        overview.export_date as overview_export_date,
        viewers.export_date as viewers_export_date
    from overview
    full outer join viewers
        on overview.account_handle = viewers.account_handle
        and overview.metric_date = viewers.metric_date
)

select
    account_handle,
    metric_date,
    video_views,
    profile_views,
    likes,
    comments,
    shares,
    total_viewers,
    new_viewers,
    returning_viewers,
    -- TikTok revises the latest days: a row is provisional while either part of it was last
    -- reported by an export taken within provisional_days of the day
    coalesce(overview_export_date - metric_date <= {{ var('provisional_days') }}, false)
    or coalesce(viewers_export_date - metric_date <= {{ var('provisional_days') }}, false)
        as is_provisional
from joined
