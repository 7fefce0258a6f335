-- Promise: per account, the video views in fct_account_overview_daily add up to exactly those of the
-- deduplicated Studio Overview exports (stg_studio__overview: newest export wins per day), so the mart
-- neither loses, doubles nor invents a day. Returns each account whose two totals differ, with both.
-- A narrowed daily build compares the days from its first rebuilt one on (`tests_window`), a whole build all.
-- Attached to the mart in Dagster (a test that refs two models needs the meta to say which one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_account_overview_daily'}}}) }}

with mart as (
    select
        account_handle,
        sum(video_views) as mart_video_views
    from {{ ref('fct_account_overview_daily') }}
    where {{ tests_window('metric_date') }}
    group by account_handle
),

staged as (
    select
        account_handle,
        sum(video_views) as staged_video_views
    from {{ ref('stg_studio__overview') }}
    where {{ tests_window('metric_date') }}
    group by account_handle
)

select
    coalesce(mart.account_handle, staged.account_handle) as account_handle,
    mart.mart_video_views,
    staged.staged_video_views
from mart
full outer join staged on mart.account_handle = staged.account_handle
where mart.mart_video_views is distinct from staged.staged_video_views
