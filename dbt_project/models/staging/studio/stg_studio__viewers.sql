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
        -- the parts with "0","0": unknown, not zero viewers (tiktok-formats.md, Viewers)
        cast(total_viewers as bigint) as total_viewers,
        case
            when not (total_viewers is null and new_viewers = 0 and returning_viewers = 0)
                then cast(new_viewers as bigint)
        end as new_viewers,
        case
            when not (total_viewers is null and new_viewers = 0 and returning_viewers = 0)
                then cast(returning_viewers as bigint)
        end as returning_viewers
    from source
)

select
    account_handle,
    metric_date,
    -- each the newest export's, or the newest an export knew where it wrote "undefined"
    last_value(total_viewers ignore nulls) over exports_of_the_day as total_viewers,
    last_value(new_viewers ignore nulls) over exports_of_the_day as new_viewers,
    last_value(returning_viewers ignore nulls) over exports_of_the_day as returning_viewers,
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
-- the newest export of a day wins (recent days are revised): its lineage, and each number it knows
qualify row_number() over (
    partition by account_handle, metric_date
    order by exported_at desc, document_id desc, source_row desc
) = 1
