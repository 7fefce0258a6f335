-- One row per websocket connection of a recording per document: int_live_rooms__spans takes the
-- connections of the document stg_live__sessions chose for the recording, so facts never mix receipts.
with source as (
    select * from {{ source('live', 'live_connections') }}
),

renamed as (
    select
        -- ids and lineage
        cast(session_id as varchar) as session_id,
        cast(connection_id as varchar) as connection_id,
        cast(document_id as varchar) as document_id,
        cast(source_row as integer) as source_row,
        -- times (UTC)
        cast(connected_at as timestamp) as connected_at,
        cast(disconnected_at as timestamp) as disconnected_at
    from source
)

select
    session_id,
    connection_id,
    connected_at,
    disconnected_at,
    document_id,
    source_row
from renamed
