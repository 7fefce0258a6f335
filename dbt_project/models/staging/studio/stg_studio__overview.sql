-- One row per account per metric_date: daily account totals from the newest export covering the day.
with source as (
    select * from {{ source('studio', 'studio_overview') }}
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
        -- metrics (daily, not running totals; null where TikTok wrote "undefined")
        cast(video_views as bigint) as video_views,
        cast(profile_views as bigint) as profile_views,
        cast(likes as bigint) as likes,
        cast(comments as bigint) as comments,
        cast(shares as bigint) as shares
    from source
)

select
    account_handle,
    metric_date,
    -- each the newest export's, or the newest an export knew where it wrote "undefined" (a partial row: a count
    -- not computed yet)
    last_value(video_views ignore nulls) over exports_of_the_day as video_views,
    last_value(profile_views ignore nulls) over exports_of_the_day as profile_views,
    last_value(likes ignore nulls) over exports_of_the_day as likes,
    last_value(comments ignore nulls) over exports_of_the_day as comments,
    last_value(shares ignore nulls) over exports_of_the_day as shares,
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
-- the latest 1-3 days get revised by later exports: the newest export wins (its lineage, and each number it knows)
qualify row_number() over (
    partition by account_handle, metric_date
    order by exported_at desc, document_id desc, source_row desc
) = 1
