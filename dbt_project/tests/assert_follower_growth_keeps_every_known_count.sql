-- Promise: every day int_follower_counts__unioned reports for an account (the day's best source: Studio
-- FollowerHistory, else the TikTok APIs) is a day of fct_follower_growth_daily with the same count (null for a
-- day reported "undefined"), so the date spine drops or alters no known count. Day by day: comparing each
-- account's maximum, as this test did first, let a dropped or altered day below the maximum pass (review).
-- Returns each such day, with both counts. A narrowed daily build compares the days from its first rebuilt one
-- on (`tests_window`), a whole build all.
-- Attached to the mart in Dagster (a test that refs two models needs the meta to say which one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_follower_growth_daily'}}}) }}

with counted as (
    select
        account_handle,
        metric_date,
        followers
    from {{ ref('int_follower_counts__unioned') }}
    where {{ tests_window('metric_date') }}
),

mart as (
    select
        account_handle,
        metric_date,
        followers
    from {{ ref('fct_follower_growth_daily') }}
    where {{ tests_window('metric_date') }}
)

select
    counted.account_handle,
    counted.metric_date,
    counted.followers as source_followers,
    mart.followers as mart_followers,
    mart.metric_date is not null as day_in_mart
from counted
left join mart
    on counted.account_handle = mart.account_handle
    and counted.metric_date = mart.metric_date
where mart.metric_date is null or mart.followers is distinct from counted.followers
