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
),

exports_of_the_day as (
    -- per day, two greatest structs led by the order key (exported_at, document_id, source_row: unique per row, so
    -- the fields after it never decide): the newest export's row (its lineage), and the newest that knows the count,
    -- with TikTok's difference beside it, one unit (an older export's capture is never erased: follower history
    -- cannot be downloaded again later). A hash aggregate, not two window sorts of every raw row: every export
    -- repeats its recent days, and dim_accounts and the growth mart read this view whole (a 300 x 90 warehouse:
    -- 188,468 raw rows, 28,724 days, 165 -> 56 ms on one thread)
    select
        account_handle,
        metric_date,
        max({
            'exported_at': exported_at,
            'document_id': document_id,
            'source_row': source_row,
            'export_date': export_date,
            'difference': follower_difference
        }) as newest,
        max({
            'exported_at': exported_at,
            'document_id': document_id,
            'source_row': source_row,
            'followers': followers,
            'difference': follower_difference
        }) filter (where followers is not null) as known
    from renamed
    group by account_handle, metric_date
)

select
    account_handle,
    metric_date,
    struct_extract(known, 'followers') as followers,
    case
        when known is null then struct_extract(newest, 'difference') else struct_extract(known, 'difference')
    end as follower_difference,
    struct_extract(newest, 'export_date') as export_date,
    struct_extract(newest, 'exported_at') as exported_at,
    struct_extract(newest, 'document_id') as document_id,
    struct_extract(newest, 'source_row') as source_row
from exports_of_the_day
