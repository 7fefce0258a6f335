-- One row per account per video per metric_date: lifetime totals observed by the day's newest
-- complete API pull (Display video/list or Business business/video/list).
with source as (
    select * from {{ source('tiktok_api', 'api_video_snapshots') }}
),

renamed as (
    select
        -- ids and lineage (video_id: digits, kept as text so it stays exact)
        {{ canonical_handle("lower(cast(account_handle as varchar))") }} as account_handle,
        cast(video_id as varchar) as video_id,
        cast(api as varchar) as api,
        cast(document_id as varchar) as pull_id,
        cast(source_row as integer) as source_row,
        -- dates: metric_date is the account-local day of the pull; post_date the creation day there
        cast(metric_date as date) as metric_date,
        cast(post_date as date) as post_date,
        cast(created_at as timestamp) as created_at,
        cast(exported_at as timestamp) as pulled_at,
        -- attributes: a blank title means "no title"; the link is built like Studio's video links
        case when trim(title) = '' then null else cast(title as varchar) end as video_title,
        -- by the account's current handle (account_handle_aliases): a former one may lead nowhere
        'https://www.tiktok.com/@'
        || {{ canonical_handle("lower(account_handle)") }}
        || '/video/'
        || video_id as video_link,
        cast(duration_s as double) as duration_s,
        -- metrics: lifetime totals at pull time
        cast(views_total as bigint) as views_total,
        cast(likes_total as bigint) as likes_total,
        cast(comments_total as bigint) as comments_total,
        cast(shares_total as bigint) as shares_total,
        -- Business API only (null for Display)
        cast(favorites_total as bigint) as favorites_total,
        cast(reach_total as bigint) as reach_total,
        cast(total_time_watched_s as double) as total_time_watched_s,
        cast(average_time_watched_s as double) as average_time_watched_s,
        cast(full_video_watched_rate as double) as full_video_watched_rate,
        cast(new_followers_total as bigint) as new_followers_total,
        cast(profile_views_total as bigint) as profile_views_total
    from source
)

select
    account_handle,
    video_id,
    metric_date,
    api,
    video_title,
    video_link,
    post_date,
    created_at,
    duration_s,
    views_total,
    likes_total,
    comments_total,
    shares_total,
    favorites_total,
    reach_total,
    total_time_watched_s,
    average_time_watched_s,
    full_video_watched_rate,
    new_followers_total,
    profile_views_total,
    pulled_at,
    pull_id,
    source_row
from renamed
-- the newest pull of the day wins
qualify row_number() over (
    partition by account_handle, video_id, metric_date
    order by pulled_at desc, pull_id desc, source_row desc
) = 1
