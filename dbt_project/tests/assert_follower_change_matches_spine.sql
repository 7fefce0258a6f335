-- net_follower_change_7d must equal followers minus the followers of the calendar day 7 days earlier
-- (a date, not a row offset): guards the "no gaps in the spine" assumption behind lag().
select
    today.account_handle,
    today.metric_date
from {{ ref('fct_follower_growth_daily') }} as today
left join {{ ref('fct_follower_growth_daily') }} as week_ago
    on today.account_handle = week_ago.account_handle
    and week_ago.metric_date = today.metric_date - 7
where
    today.net_follower_change_7d is distinct from today.followers - week_ago.followers
    and {{ tests_window('today.metric_date') }}
