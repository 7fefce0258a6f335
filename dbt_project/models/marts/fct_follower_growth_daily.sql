-- One row per account per day on a continuous date spine (first to last day with a known follower count).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_handle', 'metric_date'],
        on_schema_change='fail'
    )
}}

with spined as (
    select
        account_handle,
        metric_date,
        followers
    from {{ ref('int_follower_history__date_spined') }}
),

changes as (
    -- over the whole history: the lags must see days before min_date. The spine has no gaps, so
    -- n rows back is n days back; an unknown end (null) gives a null change, never a guess.
    select
        account_handle,
        metric_date,
        followers,
        followers - lag(followers, 1) over account_days as net_follower_change,
        followers - lag(followers, 7) over account_days as net_follower_change_7d,
        followers - lag(followers, 28) over account_days as net_follower_change_28d
    from spined
    window account_days as (partition by account_handle order by metric_date)
)

select
    account_handle,
    metric_date,
    followers,
    net_follower_change,
    net_follower_change_7d,
    net_follower_change_28d
from changes
where {{ incremental_window('metric_date') }}
