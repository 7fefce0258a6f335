-- One row per account per video per metric_date per impression_source: the share of the video's
-- traffic source (impression source: For You, Follow, Search, ...), from the day's newest complete Business pull.
with source as (
    select * from {{ source('tiktok_api', 'api_video_traffic_sources') }}
),

renamed as (
    select
        -- ids and lineage
        {{ canonical_handle("lower(cast(account_handle as varchar))") }} as account_handle,
        cast(video_id as varchar) as video_id,
        cast(document_id as varchar) as pull_id,
        -- dates: the account-local day of the pull
        cast(metric_date as date) as metric_date,
        cast(exported_at as timestamp) as pulled_at,
        -- attributes and metrics
        cast(impression_source as varchar) as impression_source,
        cast(share as double) as share
    from source
)

select
    account_handle,
    video_id,
    metric_date,
    impression_source,
    share,
    pulled_at,
    pull_id
from renamed
-- shares only add up within one pull: keep every row of the day's newest pull, never mix pulls
qualify dense_rank() over (
    partition by account_handle, metric_date
    order by pulled_at desc, pull_id desc
) = 1
