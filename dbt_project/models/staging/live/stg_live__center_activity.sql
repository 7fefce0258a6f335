-- One row per account per metric_date: LIVE Center daily LIVE count and time LIVE, newest file wins.
with source as (
    select * from {{ source('live', 'live_center_activity') }}
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
        cast(live_count as bigint) as live_count,
        cast(live_duration_s as bigint) as live_duration_s
    from source
)

select
    account_handle,
    metric_date,
    live_count,
    live_duration_s,
    exported_at,
    document_id,
    source_row
from renamed
-- daily files overlap: the newest file covering the day wins
qualify row_number() over (
    partition by account_handle, metric_date
    order by exported_at desc, document_id desc, source_row desc
) = 1
