-- One row per account per metric_date that any source reported, with the best follower count of the day.
--
-- Studio's FollowerHistory (end-of-day totals as TikTok computed them) wins wherever it has a known
-- count; the APIs fill the other days: first business/get's daily follower total (TikTok's UTC date,
-- the closest to Studio's meaning), then the daily profile snapshot (Display user/info or Business
-- profile fields, observed at pull time on the account-local day). Follower counts can never be
-- backfilled, so a day any source captured is kept. A Studio day written as "undefined" stays a
-- reported day with a null count unless an API saw that day.
with candidates as (
    select
        account_handle,
        metric_date,
        followers,
        'studio_follower_history' as follower_source,
        1 as source_priority
    from {{ ref('stg_studio__follower_history') }}

    union all

    select
        account_handle,
        metric_date,
        followers_count as followers,
        'api_business_daily' as follower_source,
        2 as source_priority
    from {{ ref('stg_tiktok_api__business_daily') }}
    where followers_count is not null

    union all

    select
        account_handle,
        metric_date,
        follower_count as followers,
        'api_' || api || '_profile' as follower_source,
        3 as source_priority
    from {{ ref('stg_tiktok_api__user_snapshots') }}
    where follower_count is not null
)

select
    account_handle,
    metric_date,
    followers,
    follower_source
from candidates
qualify row_number() over (
    partition by account_handle, metric_date
    order by followers is null, source_priority
) = 1
