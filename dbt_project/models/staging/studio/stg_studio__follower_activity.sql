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
    decides which of its hours are not computed yet); older hours are kept (replace_build_window).
    Built for that size: one aggregate per document joined back on document_id (not one per document and day
    joined on both), each hour's winner as the greatest of a narrow struct (a hash aggregate, not a row_number
    sort of every row on ~100-character document ids); source and renamed, read twice, are not materialized:
    each reader scans only the raw columns it needs. -#}
with source as not materialized (
    select * from {{ source('studio', 'studio_follower_activity') }}
    {%- if is_incremental() and build_min_date() %}
        -- the files listing an hour of the window, every row of them
        where document_id in (
            select document_id from {{ source('studio', 'studio_follower_activity') }}
            where metric_date >= cast('{{ build_min_date() }}' as date)
        )
    {%- endif %}
),

renamed as not materialized (
    select
        -- ids and lineage
        {{ canonical_handle("cast(account_handle as varchar)") }} as account_handle,
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
    -- TikTok writes the not-yet-computed hours of an export's LAST day as 0: each document's last day, and
    -- its last non-zero (day, hour); the hours of the last day after it are unknown, not zero.
    select
        document_id,
        max(metric_date) as document_last_date,
        max({ 'metric_date': metric_date, 'hour': hour }) filter (
            where active_followers <> 0 and metric_date is not null and hour is not null
        ) as last_nonzero,
        -- the documents in document_id order: the dedupe's tie-break, narrower than the id itself
        row_number() over (order by document_id) as document_rank
    from renamed
    group by document_id
),

cleaned as (
    select
        renamed.account_handle,
        renamed.metric_date,
        renamed.hour,
        case
            -- on the last day: no non-zero hour that day (a last non-zero day before it), or a later hour
            when
                renamed.metric_date = document_progress.document_last_date
                and (
                    document_progress.last_nonzero is null
                    or struct_extract(document_progress.last_nonzero, 'metric_date') < renamed.metric_date
                    or renamed.hour > struct_extract(document_progress.last_nonzero, 'hour')
                )
                then null
            else renamed.active_followers
        end as active_followers,
        renamed.export_date,
        renamed.exported_at,
        renamed.document_id,
        renamed.source_row,
        document_progress.document_rank
    from renamed
    left join document_progress on renamed.document_id = document_progress.document_id
),

winners as (
    select
        account_handle,
        metric_date,
        hour,
        -- a computed value beats a not-yet-computed one, then the newest export wins, then the greatest
        -- document_id and source_row: the greatest struct, compared field by field; a document has one rank and
        -- (document, source_row) is a row of its own, so the value fields after them never decide
        max({
            'is_computed': active_followers is not null,
            'exported_at': exported_at,
            'document_rank': document_rank,
            'source_row': source_row,
            'active_followers': active_followers,
            'export_date': export_date
        }) as winner
    from cleaned
    where {{ incremental_window('metric_date') }}
    group by account_handle, metric_date, hour
)

select
    winners.account_handle,
    winners.metric_date,
    winners.hour,
    struct_extract(winners.winner, 'active_followers') as active_followers,
    struct_extract(winners.winner, 'export_date') as export_date,
    struct_extract(winners.winner, 'exported_at') as exported_at,
    document_progress.document_id,
    struct_extract(winners.winner, 'source_row') as source_row
from winners
-- the winner's document_id by its rank: carrying the id through the dedupe costs more than this join
inner join document_progress on struct_extract(winners.winner, 'document_rank') = document_progress.document_rank
