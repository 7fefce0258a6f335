-- One row per account per metric_date: LIVE Center daily viewer figures, newest file wins.
with source as (
    select * from {{ source('live', 'live_center_viewers') }}
),

renamed as (
    select
        -- ids and lineage
        {{ canonical_handle("cast(account_handle as varchar)") }} as account_handle,
        cast(document_id as varchar) as document_id,
        cast(source_row as integer) as source_row,
        -- dates (the day as printed, probably the account's local day)
        cast(metric_date as date) as metric_date,
        cast(exported_at as timestamp) as exported_at,
        -- metrics
        cast(views as bigint) as views,  -- noqa: RF04
        cast(unique_viewers as bigint) as unique_viewers,
        cast(avg_watch_time_s as double) as avg_watch_time_s,
        cast(top_viewer_count as bigint) as top_viewer_count,
        cast(avg_concurrent_viewers as double) as avg_concurrent_viewers
    from source
)

select
    account_handle,
    metric_date,
    views,  -- noqa: RF04
    unique_viewers,
    avg_watch_time_s,
    top_viewer_count,
    avg_concurrent_viewers,
    exported_at,
    document_id,
    source_row
from renamed
-- daily files overlap: the newest file covering the day wins
qualify row_number() over (
    partition by account_handle, metric_date
    order by exported_at desc, document_id desc, source_row desc
) = 1
