-- Identity: total viewers = new + returning, wherever all three are known.
-- It checks TikTok's arithmetic, not ours, so it warns instead of blocking the marts: a plausibility
-- rule (README "Severity"), the same rows landed with a flag in raw.row_flags (total_equals_new_plus_returning).
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
    and {{ tests_window('metric_date') }}
