-- One row per account per metric_date: profile totals observed by the day's newest complete API pull.
with source as (
    select * from {{ source('tiktok_api', 'api_user_snapshots') }}
),

renamed as (
    select
        -- ids and lineage
        {{ canonical_handle("lower(cast(account_handle as varchar))") }} as account_handle,
        cast(api as varchar) as api,
        cast(open_id as varchar) as open_id,
        cast(document_id as varchar) as pull_id,
        -- dates: the calendar day, in the account's time zone, on which the pull ran
        cast(metric_date as date) as metric_date,
        cast(exported_at as timestamp) as pulled_at,
        -- attributes
        cast(username as varchar) as username,
        cast(display_name as varchar) as display_name,
        -- metrics: current totals at pull time
        cast(follower_count as bigint) as follower_count,
        cast(following_count as bigint) as following_count,
        cast(likes_count as bigint) as likes_count,
        cast(video_count as bigint) as video_count
    from source
)

select
    account_handle,
    metric_date,
    api,
    open_id,
    username,
    display_name,
    follower_count,
    following_count,
    likes_count,
    video_count,
    pulled_at,
    pull_id
from renamed
-- the newest pull of the day wins
qualify row_number() over (
    partition by account_handle, metric_date
    order by pulled_at desc, pull_id desc
) = 1
