-- One row per account per day on the follower / daily-metrics calendar: followers and their growth,
-- the day's views and engagement, and the engagement-rate variants (models/_metric_definitions.md).
with followers as (
    select
        account_handle,
        metric_date,
        followers,
        net_follower_change,
        net_follower_change_7d,
        net_follower_change_28d
    from {{ ref('fct_follower_growth_daily') }}
),

overview as (
    select
        account_handle,
        metric_date,
        video_views,
        likes,
        comments,
        shares,
        is_provisional
    from {{ ref('fct_account_overview_daily') }}
),

business_daily as (
    select
        account_handle,
        metric_date,
        video_views,
        unique_video_views,
        likes,
        comments,
        shares
    from {{ ref('stg_tiktok_api__business_daily') }}
),

calendar as (
    -- every day any of the three knows; the follower spine is already continuous
    select
        account_handle,
        metric_date
    from followers
    union
    select
        account_handle,
        metric_date
    from overview
    union
    select
        account_handle,
        metric_date
    from business_daily
),

joined as (
    select
        calendar.account_handle,
        calendar.metric_date,
        followers.followers,
        followers.net_follower_change,
        followers.net_follower_change_7d,
        followers.net_follower_change_28d,
        overview.is_provisional,
        -- one source per row, never a mix: Studio's Overview when it has the day's views, else the
        -- Business API's daily metrics
        case
            when overview.video_views is not null then 'studio_overview'
            when business_daily.account_handle is not null then 'api_business_daily'
        end as daily_metrics_source,
        business_daily.unique_video_views as reach,
        business_daily.likes + business_daily.comments + business_daily.shares as business_engagement,
        overview.video_views as overview_views,
        overview.likes as overview_likes,
        overview.comments as overview_comments,
        overview.shares as overview_shares,
        business_daily.video_views as business_views,
        business_daily.likes as business_likes,
        business_daily.comments as business_comments,
        business_daily.shares as business_shares
    from calendar
    left join followers
        on calendar.account_handle = followers.account_handle
        and calendar.metric_date = followers.metric_date
    left join overview
        on calendar.account_handle = overview.account_handle
        and calendar.metric_date = overview.metric_date
    left join business_daily
        on calendar.account_handle = business_daily.account_handle
        and calendar.metric_date = business_daily.metric_date
),

daily as (
    select
        *,
        case daily_metrics_source
            when 'studio_overview' then overview_views when 'api_business_daily' then business_views
        end as video_views,
        case daily_metrics_source
            when 'studio_overview' then overview_likes when 'api_business_daily' then business_likes
        end as likes,
        case daily_metrics_source
            when 'studio_overview' then overview_comments when 'api_business_daily' then business_comments
        end as comments,
        case daily_metrics_source
            when 'studio_overview' then overview_shares when 'api_business_daily' then business_shares
        end as shares
    from joined
)

select
    account_handle,
    metric_date,
    followers,
    net_follower_change,
    net_follower_change_7d,
    net_follower_change_28d,
    -- growth relative to the followers at the start of the window (followers - change)
    {{ safe_divide('net_follower_change_7d', 'followers - net_follower_change_7d') }} as follower_growth_rate_7d,
    {{ safe_divide('net_follower_change_28d', 'followers - net_follower_change_28d') }}
        as follower_growth_rate_28d,
    video_views,
    likes,
    comments,
    shares,
    daily_metrics_source,
    is_provisional,
    -- Overview's daily views are net of removals and can be negative: no rate without views (-25 / -250 is no 10%)
    {{ safe_divide('likes + comments + shares', 'case when video_views > 0 then video_views end') }}
        as engagement_rate_by_views,
    {{ safe_divide('likes + comments + shares', 'followers') }} as engagement_rate_by_followers,
    reach,
    -- the Business API's own engagement over its own reach: numerator and denominator from one source
    {{ safe_divide('business_engagement', 'reach') }} as engagement_rate_by_reach
from daily
