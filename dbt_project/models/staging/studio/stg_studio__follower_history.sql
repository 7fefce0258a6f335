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
    -- the count and TikTok's difference beside it are one unit: from the newest export that knows the count (an
    -- older export's capture is never erased: follower history cannot be downloaded again later)
    select
        *,
        last_value(
            case
                when followers is not null then struct_pack(followers, difference := follower_difference)
            end
            ignore nulls
        ) over whole_day as known
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
    struct_extract(known, 'followers') as followers,
    case
        when known is null then follower_difference else struct_extract(known, 'difference')
    end as follower_difference,
    export_date,
    exported_at,
    document_id,
    source_row
from exports_of_the_day
-- the newest export of a day wins (its lineage)
qualify row_number() over (
    partition by account_handle, metric_date
    order by exported_at desc, document_id desc, source_row desc
) = 1
