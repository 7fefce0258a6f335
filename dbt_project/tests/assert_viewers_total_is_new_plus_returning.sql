-- Identity: total viewers = new + returning, wherever all three are known.
-- It checks TikTok's arithmetic, not ours, so it warns instead of blocking the marts.
{{ config(severity='warn') }}

select
    account_handle,
    metric_date,
    total_viewers,
    new_viewers,
    returning_viewers
from {{ ref('fct_account_overview_daily') }}
where
    total_viewers is not null
    and new_viewers is not null
    and returning_viewers is not null
    and total_viewers <> new_viewers + returning_viewers
