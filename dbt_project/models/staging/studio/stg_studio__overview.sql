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
    video_views,
    profile_views,
    likes,
    comments,
    shares,
    export_date,
    exported_at,
    document_id,
    source_row
from renamed
-- the latest 1-3 days get revised by later exports: the newest export wins, except that a row of "undefined" only
-- never beats one with a number
qualify row_number() over (
    partition by account_handle, metric_date
    order by
        coalesce(video_views, profile_views, likes, comments, shares) is not null desc,
        exported_at desc,
        document_id desc,
        source_row desc
) = 1
