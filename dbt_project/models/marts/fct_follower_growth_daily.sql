-- One row per account per day on a continuous date spine (first to last day any follower source listed).
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
        followers,
        follower_source
    from {{ ref('int_follower_history__date_spined') }}
),

{% if is_incremental() %}
    already_built as (
        -- a drop after a gap also creates the spine days between the account's last built day and the
        -- drop's first day, all older than min_date: every day after the last built one is recomputed too
        select
            account_handle,
            max(metric_date) as last_built_date
        from {{ this }}
        group by account_handle
    ),
{% endif %}

changes as (
    -- over the whole history: the lags must see days before min_date. The spine has no gaps, so
    -- n rows back is n days back; an unknown end (null) gives a null change, never a guess.
    select
        account_handle,
        metric_date,
        followers,
        followers - lag(followers, 1) over account_days as net_follower_change,
        followers - lag(followers, 7) over account_days as net_follower_change_7d,
        followers - lag(followers, 28) over account_days as net_follower_change_28d,
        follower_source
    from spined
    window account_days as (partition by account_handle order by metric_date)
)

select
    changes.account_handle,
    changes.metric_date,
    changes.followers,
    changes.net_follower_change,
    changes.net_follower_change_7d,
    changes.net_follower_change_28d,
    changes.follower_source  -- added last: the published column order stays as it was
from changes
{% if is_incremental() %}
    left join already_built on changes.account_handle = already_built.account_handle
    where
        {{ incremental_window('changes.metric_date') }}
        or already_built.last_built_date is null
        or changes.metric_date > already_built.last_built_date
{% endif %}
