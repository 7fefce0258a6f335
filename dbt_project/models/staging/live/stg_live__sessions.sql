-- One row per recording (session_id) of a LIVE: from its sidecar when one was received, else its log.
with source as (
    select * from {{ source('live', 'live_sessions') }}
),

renamed as (
    select
        -- ids and lineage
        {{ canonical_handle("cast(account_handle as varchar)") }} as account_handle,
        cast(session_id as varchar) as session_id,
        cast(room_id as varchar) as room_id,
        cast(handle as varchar) as recorded_handle,
        cast(recorder as varchar) as recorder,
        cast(document_id as varchar) as document_id,
        cast(exported_at as timestamp) as exported_at,
        -- times (UTC)
        cast(started_at as timestamp) as started_at,
        cast(ended_at as timestamp) as ended_at,
        -- how it ended and how it went
        cast(ended_by as varchar) as ended_by,
        cast(end_seen as boolean) as end_seen,
        cast(connection_count as bigint) as connection_count,
        cast(reconnects as bigint) as reconnects,
        cast(events_written as bigint) as events_written,
        cast(session_source as varchar) as session_source
    from source
)

select
    account_handle,
    session_id,
    room_id,
    recorded_handle,
    recorder,
    started_at,
    ended_at,
    ended_by,
    end_seen,
    connection_count,
    reconnects,
    events_written,
    session_source,
    exported_at,
    document_id
from renamed
-- the same recording received twice: the sidecar's facts beat ones derived from the log, then the newest
qualify row_number() over (
    partition by session_id
    order by (session_source = 'sidecar') desc, exported_at desc, document_id desc
) = 1
