-- One row per account per metric_date: daily unique viewers from the newest export covering the day.
with source as (
    select * from {{ source('studio', 'studio_viewers') }}
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
        -- metrics (total = new + returning when all are known). Where TikTok has no total ("undefined") it fills
        -- the parts with "0","0": unknown, not zero viewers (tiktok-formats.md, Viewers); a lone "0" there too
        cast(total_viewers as bigint) as total_viewers,
        case
            when not (total_viewers is null and coalesce(new_viewers, 0) = 0 and coalesce(returning_viewers, 0) = 0)
                then cast(new_viewers as bigint)
        end as new_viewers,
        case
            when not (total_viewers is null and coalesce(new_viewers, 0) = 0 and coalesce(returning_viewers, 0) = 0)
                then cast(returning_viewers as bigint)
        end as returning_viewers
    from source
),

exports_of_the_day as (
    -- the three numbers are one unit (total = new + returning): from the newest export that knows the total, else
    -- the newest that knows a part ("undefined" never beats a number, nor mixes two exports' figures)
    select
        *,
        last_value(
            case
                when total_viewers is not null
                    then struct_pack(total_viewers, new_viewers, returning_viewers)
            end
            ignore nulls
        ) over whole_day as with_total,
        last_value(
            case
                when coalesce(new_viewers, returning_viewers) is not null
                    then struct_pack(total_viewers := cast(null as bigint), new_viewers, returning_viewers)
            end
            ignore nulls
        ) over whole_day as parts_only
    from renamed
    window
        whole_day as (
            partition by account_handle, metric_date
            order by exported_at, document_id, source_row
            rows between unbounded preceding and unbounded following
        )
)

select
    account_handle,
    metric_date,
    struct_extract(coalesce(with_total, parts_only), 'total_viewers') as total_viewers,
    struct_extract(coalesce(with_total, parts_only), 'new_viewers') as new_viewers,
    struct_extract(coalesce(with_total, parts_only), 'returning_viewers') as returning_viewers,
    export_date,
    exported_at,
    document_id,
    source_row
from exports_of_the_day
-- the newest export of a day wins (recent days are revised): its lineage, and its numbers when it knows them
qualify row_number() over (
    partition by account_handle, metric_date
    order by exported_at desc, document_id desc, source_row desc
) = 1
