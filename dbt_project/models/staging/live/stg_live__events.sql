-- One row per distinct event of a LIVE (room): a reconnect's replays and a log received twice removed.
with source as (
    select * from {{ source('live', 'live_events') }}
),

renamed as (
    select
        -- ids and lineage
        {{ canonical_handle("cast(account_handle as varchar)") }} as account_handle,
        cast(room_id as varchar) as room_id,
        cast(session_id as varchar) as session_id,
        cast(connection_id as varchar) as connection_id,
        cast(seq as bigint) as seq,
        cast(msg_id as varchar) as msg_id,
        cast(user_id as varchar) as user_id,
        cast(document_id as varchar) as document_id,
        cast(source_row as integer) as source_row,
        -- what and when (UTC)
        cast(event_type as varchar) as event_type,
        cast(received_at as timestamp) as received_at,
        cast(event_at as timestamp) as event_at,
        -- viewers records
        cast(viewer_count as bigint) as viewer_count,
        cast(total_user as bigint) as total_user,
        -- like records
        cast(like_count as bigint) as like_count,
        cast(total_likes as bigint) as total_likes,
        -- gift records
        cast(gift_id as varchar) as gift_id,
        cast(gift_name as varchar) as gift_name,
        cast(gift_type as bigint) as gift_type,
        cast(diamond_per_gift as bigint) as diamond_per_gift,
        cast(repeat_count as bigint) as repeat_count,
        cast(repeat_end as boolean) as repeat_end,
        cast(group_id as varchar) as group_id,
        cast(to_user_id as varchar) as to_user_id,
        -- live_end / disconnect / session_end records
        cast(reason as varchar) as reason,
        cast(ended_by as varchar) as ended_by
    from source
)

select
    account_handle,
    room_id,
    session_id,
    connection_id,
    seq,
    msg_id,
    user_id,
    event_type,
    received_at,
    event_at,
    viewer_count,
    total_user,
    like_count,
    total_likes,
    gift_id,
    gift_name,
    gift_type,
    diamond_per_gift,
    repeat_count,
    repeat_end,
    group_id,
    to_user_id,
    reason,
    ended_by,
    document_id,
    source_row
from renamed
-- A reconnect replays recent events with their msg_id, and two recordings of one LIVE see the same
-- events: one row per msg_id per room, the first received copy. The recorder's own records (no msg_id)
-- are one per session line, so a log received twice counts once.
qualify row_number() over (
    partition by
        room_id,
        msg_id,
        case when msg_id is null then session_id end,
        case when msg_id is null then seq end
    order by received_at asc, session_id asc, connection_id asc, seq asc, document_id asc
) = 1
