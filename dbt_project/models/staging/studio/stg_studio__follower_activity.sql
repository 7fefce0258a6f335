-- One row per account per metric_date per hour: active followers, null while not yet computed.
with source as (
    select * from {{ source('studio', 'studio_follower_activity') }}
),

renamed as (
    select
        -- ids and lineage
        cast(account_handle as varchar) as account_handle,
        cast(document_id as varchar) as document_id,
        cast(source_row as integer) as source_row,
        -- dates
        cast(metric_date as date) as metric_date,
        cast(hour as integer) as hour,
        cast(export_date as date) as export_date,
        cast(exported_at as timestamp) as exported_at,
        -- metrics
        cast(active_followers as bigint) as active_followers
    from source
),

document_progress as (
    -- TikTok writes the not-yet-computed hours of an export's LAST day as 0. Find, per document,
    -- that day and its last non-zero hour; everything after it is unknown, not zero.
    select
        *,
        max(metric_date) over (partition by document_id) as document_last_date,
        max(case when active_followers <> 0 then hour end) over (
            partition by document_id, metric_date
        ) as last_nonzero_hour
    from renamed
),

cleaned as (
    select
        account_handle,
        metric_date,
        hour,
        case
            when
                metric_date = document_last_date
                and (last_nonzero_hour is null or hour > last_nonzero_hour)
                then null
            else active_followers
        end as active_followers,
        export_date,
        exported_at,
        document_id,
        source_row
    from document_progress
)

select
    account_handle,
    metric_date,
    hour,
    active_followers,
    export_date,
    exported_at,
    document_id,
    source_row
from cleaned
-- a computed value beats a not-yet-computed one, then the newest export wins
qualify row_number() over (
    partition by account_handle, metric_date, hour
    order by (active_followers is null), exported_at desc, document_id desc, source_row desc
) = 1
