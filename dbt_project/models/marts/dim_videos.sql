-- One row per video (account_handle, video_id): descriptive attributes, the latest lifetime totals, and
-- whether the account's newest API listing still shows it.
with snapshots as (
    select
        account_handle,
        video_id,
        metric_date,
        post_date,
        video_title,
        video_link,
        views_total,
        likes_total,
        comments_total,
        shares_total
    from {{ ref('int_video_snapshots__unioned') }}
),

attributes as (
    -- titles and links come and go (empty in some exports): keep the latest non-empty value
    select
        account_handle,
        video_id,
        arg_max(video_title, metric_date) filter (where video_title is not null) as video_title,
        arg_max(video_link, metric_date) filter (where video_link is not null) as video_link,
        arg_max(post_date, metric_date) filter (where post_date is not null) as post_date,
        min(metric_date) as first_seen_date,
        max(metric_date) as last_seen_date,
        count(*) as snapshot_count
    from snapshots
    group by account_handle, video_id
),

api_listings as (
    -- the newest complete video listing of each API account (also when it listed no video at all)
    select
        account_handle,
        max(metric_date) as latest_listing_date
    from {{ ref('stg_tiktok_api__pulls') }}
    where
        is_published
        and purpose = 'snapshot'
        and endpoint in ('video_list', 'business_video_list')
    group by account_handle
),

api_listed as (
    select
        account_handle,
        video_id,
        max(metric_date) as last_listed_date
    from {{ ref('stg_tiktok_api__video_snapshots') }}
    group by account_handle, video_id
),

latest_snapshot as (
    -- the totals of the latest snapshot as they are, nulls included (no mixing of days)
    select
        account_handle,
        video_id,
        views_total,
        likes_total,
        comments_total,
        shares_total
    from snapshots
    qualify row_number() over (
        partition by account_handle, video_id
        order by metric_date desc
    ) = 1
)

select
    attributes.account_handle,
    attributes.video_id,
    attributes.video_title,
    attributes.video_link,
    attributes.post_date,
    attributes.first_seen_date,
    attributes.last_seen_date,
    attributes.snapshot_count,
    latest_snapshot.views_total,
    latest_snapshot.likes_total,
    latest_snapshot.comments_total,
    latest_snapshot.shares_total,
    api_listed.last_listed_date,
    -- deleted or made private: gone from the newest listing, history kept. Unknown (null) without API
    -- listings: Studio's Content export is not the whole catalogue.
    case
        when api_listings.account_handle is not null
            then coalesce(api_listed.last_listed_date >= api_listings.latest_listing_date, false)
    end as is_still_listed
from attributes
inner join latest_snapshot
    on attributes.account_handle = latest_snapshot.account_handle
    and attributes.video_id = latest_snapshot.video_id
left join api_listed
    on attributes.account_handle = api_listed.account_handle
    and attributes.video_id = api_listed.video_id
left join api_listings
    on attributes.account_handle = api_listings.account_handle
