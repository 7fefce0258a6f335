-- One row per account per day on a continuous date spine, from the first to the last day any follower
-- source listed for the account (a Studio "undefined" day included). Days without a report (or with
-- "undefined") keep followers null, so "n rows back" on this spine is always "n days back".
with follower_history as (
    -- Studio FollowerHistory, else the TikTok APIs' follower totals (int_follower_counts__unioned)
    select
        account_handle,
        metric_date,
        followers,
        follower_source
    from {{ ref('int_follower_counts__unioned') }}
),

bounds as (
    -- every listed day gets a row, known or not: the bounds only widen as files arrive, so an
    -- incremental build never has to remove a day a newer export turned "undefined"
    select
        account_handle,
        min(metric_date) as first_date,
        max(metric_date) as last_date
    from follower_history
    group by account_handle
),

spine as (
    select
        bounds.account_handle,
        spine_days.date_day as metric_date
    from bounds
    -- a lateral subquery reading each account's bounds, which a CTE cannot do (hence noqa: ST05)
    cross join lateral {{ date_spine('bounds.first_date', 'bounds.last_date') }} as spine_days  -- noqa: ST05
)

select
    spine.account_handle,
    spine.metric_date,
    follower_history.followers,
    follower_history.follower_source,
    follower_history.metric_date is not null as is_reported
from spine
left join follower_history
    on spine.account_handle = follower_history.account_handle
    and spine.metric_date = follower_history.metric_date
