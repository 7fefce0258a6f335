-- One row per account per metric_date per hour: active followers, null while not yet computed.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ replace_build_window('metric_date') }}",
        on_schema_change='fail'
    )
}}
{#- A table, unlike the other staging models: every export repeats its last 7 days hour by hour, so the raw
    table grows 7 times faster than this one (4.5 million rows for 0.7 million at 300 accounts x 90 days).
    A build recomputes the hours from min_date: each from every file listing it, whole (a file's last day
    decides which of its hours are not computed yet); older hours are kept (replace_build_window). -#}
with source as (
    select * from {{ source('studio', 'studio_follower_activity') }}
    {%- if is_incremental() and build_min_date() %}
        -- the files listing an hour of the window, every row of them
        where document_id in (
            select document_id from {{ source('studio', 'studio_follower_activity') }}
            where metric_date >= cast('{{ build_min_date() }}' as date)
        )
    {%- endif %}
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

document_last_dates as (
    -- TikTok writes the not-yet-computed hours of an export's LAST day as 0: each document's last day
    select
        document_id,
        max(metric_date) as document_last_date
    from renamed
    group by document_id
),

day_progress as (
    -- and the last non-zero hour of each day of a document: everything after it on its last day is
    -- unknown, not zero. Aggregates joined back (not window functions) so that a filter on metric_date
    -- from a caller (an incremental mart, a test of the new days) reaches the scan of the raw table.
    select
        document_id,
        metric_date,
        max(case when active_followers <> 0 then hour end) as last_nonzero_hour
    from renamed
    group by document_id, metric_date
),

cleaned as (
    select
        renamed.account_handle,
        renamed.metric_date,
        renamed.hour,
        case
            when
                renamed.metric_date = document_last_dates.document_last_date
                and (day_progress.last_nonzero_hour is null or renamed.hour > day_progress.last_nonzero_hour)
                then null
            else renamed.active_followers
        end as active_followers,
        renamed.export_date,
        renamed.exported_at,
        renamed.document_id,
        renamed.source_row
    from renamed
    left join document_last_dates on renamed.document_id = document_last_dates.document_id
    left join day_progress
        on renamed.document_id = day_progress.document_id
        and renamed.metric_date is not distinct from day_progress.metric_date
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
where {{ incremental_window('metric_date') }}
-- a computed value beats a not-yet-computed one, then the newest export wins
qualify row_number() over (
    partition by account_handle, metric_date, hour
    order by (active_followers is null), exported_at desc, document_id desc, source_row desc
) = 1
