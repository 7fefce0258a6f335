-- Promise: per account, the highest follower total in fct_follower_growth_daily equals the highest one
-- of int_follower_counts__unioned (the day's best source: Studio FollowerHistory, else the TikTok APIs),
-- so the date spine drops no known count. Returns each account whose two maxima differ, with both.
-- A narrowed daily build compares the days from its first rebuilt one on (`tests_window`), a whole build all.
-- Attached to the mart in Dagster (a test that refs two models needs the meta to say which one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_follower_growth_daily'}}}) }}

with mart as (
    select
        account_handle,
        max(followers) as mart_max_followers
    from {{ ref('fct_follower_growth_daily') }}
    where {{ tests_window('metric_date') }}
    group by account_handle
),

counted as (
    select
        account_handle,
        max(followers) as source_max_followers
    from {{ ref('int_follower_counts__unioned') }}
    where {{ tests_window('metric_date') }}
    group by account_handle
)

select
    coalesce(mart.account_handle, counted.account_handle) as account_handle,
    mart.mart_max_followers,
    counted.source_max_followers
from mart
full outer join counted on mart.account_handle = counted.account_handle
where mart.mart_max_followers is distinct from counted.source_max_followers
