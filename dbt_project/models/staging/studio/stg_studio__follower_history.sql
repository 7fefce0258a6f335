-- One row per account per metric_date: end-of-day follower total from the newest export covering the day.
with source as (
    select * from {{ source('studio', 'studio_follower_history') }}
),

renamed as (
    select
        -- ids and lineage
        {{ canonical_handle("cast(account_handle as varchar)") }} as account_handle,
        cast(document_id as varchar) as document_id,
        cast(source_row as integer) as source_row,
        -- dates
        cast(metric_date as date) as metric_date,
        cast(export_date as date) as export_date,
        cast(exported_at as timestamp) as exported_at,
        -- metrics: followers is the day's end total (null = unknown); the difference is against the
        -- previous day as TikTok computed it (0 on the first day with data, so not a growth figure)
        cast(followers as bigint) as followers,
        cast(follower_difference as bigint) as follower_difference
    from source
)

select
    account_handle,
    metric_date,
    -- the newest export's count, or the newest count an export captured when it wrote "undefined": an older
    -- capture is never erased (follower history cannot be downloaded again later)
    last_value(followers ignore nulls) over exports_of_the_day as followers,
    follower_difference,
    export_date,
    exported_at,
    document_id,
    source_row
from renamed
window
    exports_of_the_day as (
        partition by account_handle, metric_date
        order by exported_at, document_id, source_row
        rows between unbounded preceding and unbounded following
    )
-- the newest export of a day wins (its lineage)
qualify row_number() over (
    partition by account_handle, metric_date
    order by exported_at desc, document_id desc, source_row desc
) = 1
