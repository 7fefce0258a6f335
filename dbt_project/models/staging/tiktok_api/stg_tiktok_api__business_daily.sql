-- One row per Business account per metric_date (TikTok's UTC date): daily account metrics from the
-- newest pull that returned the day (TikTok revises the latest days, so newer pulls win).
with source as (
    select * from {{ source('tiktok_api', 'api_business_daily') }}
),

renamed as (
    select
        -- ids and lineage
        {{ canonical_handle("lower(cast(account_handle as varchar))") }} as account_handle,
        cast(document_id as varchar) as pull_id,
        cast(source_row as integer) as source_row,
        -- dates: TikTok's own (UTC) date, never the pull day
        cast(metric_date as date) as metric_date,
        cast(exported_at as timestamp) as pulled_at,
        -- metrics of the day (daily likes do not subtract un-likes)
        cast(video_views as bigint) as video_views,
        cast(unique_video_views as bigint) as unique_video_views,
        cast(profile_views as bigint) as profile_views,
        cast(likes as bigint) as likes,
        cast(comments as bigint) as comments,
        cast(shares as bigint) as shares,
        cast(bio_link_clicks as bigint) as bio_link_clicks,
        -- followers: net change, gains and losses of the day, and the day's total
        cast(net_followers as bigint) as net_followers,
        cast(new_followers as bigint) as new_followers,
        cast(lost_followers as bigint) as lost_followers,
        cast(followers_count as bigint) as followers_count
    from source
)

select
    account_handle,
    metric_date,
    video_views,
    unique_video_views,
    profile_views,
    likes,
    comments,
    shares,
    bio_link_clicks,
    net_followers,
    new_followers,
    lost_followers,
    followers_count,
    pulled_at,
    pull_id
from renamed
qualify row_number() over (
    partition by account_handle, metric_date
    order by pulled_at desc, pull_id desc, source_row desc
) = 1
