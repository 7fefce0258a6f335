-- One row per account per video per metric_date: lifetime totals of a video observed that day.
with source as (
    select * from {{ source('studio', 'studio_content') }}
),

renamed as (
    select
        -- ids and lineage (video_id: 19 digits, kept as text so it stays exact)
        {{ canonical_handle("cast(account_handle as varchar)") }} as account_handle,
        cast(video_id as varchar) as video_id,
        cast(document_id as varchar) as document_id,
        cast(source_row as integer) as source_row,
        -- dates
        cast(metric_date as date) as metric_date,
        cast(post_date as date) as post_date,
        cast(export_date as date) as export_date,
        cast(exported_at as timestamp) as exported_at,
        -- attributes: an empty or blank title means "no title", not a title
        case when trim(video_title) = '' then null else cast(video_title as varchar) end as video_title,
        case when trim(video_link) = '' then null else cast(video_link as varchar) end as video_link,
        -- metrics: lifetime totals at snapshot time
        cast(views_total as bigint) as views_total,
        cast(likes_total as bigint) as likes_total,
        cast(comments_total as bigint) as comments_total,
        cast(shares_total as bigint) as shares_total
    from source
)

select
    account_handle,
    video_id,
    metric_date,
    video_title,
    video_link,
    post_date,
    views_total,
    likes_total,
    comments_total,
    shares_total,
    export_date,
    exported_at,
    document_id,
    source_row
from renamed
-- several exports on one day: the newest export wins
qualify row_number() over (
    partition by account_handle, video_id, metric_date
    order by exported_at desc, document_id desc, source_row desc
) = 1
