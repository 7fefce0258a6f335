-- One row per LIVE (room_id): its account, start and end as the logs saw them, the day it belongs to,
-- how it ended, and how much of it the recordings covered (gaps between connections, reconnects).
-- A table, not a view: the three room-keyed LIVE marts and their pre_hooks (delete_rooms_recomputed_or_gone) each
-- read it, and as a view every read aggregated every LIVE event again (~4 s each at 5 M events).
{{ config(materialized='table') }}
with sessions as (
    select * from {{ ref('stg_live__sessions') }}
),

events as (
    select * from {{ ref('stg_live__events') }}
),

event_bounds as (
    -- the span reaches every event, so per-minute figures always add up to the LIVE's totals
    select
        room_id,
        min(account_handle) as account_handle,
        min(received_at) as first_received_at,
        max(received_at) as last_received_at,
        count(*) filter (where event_type = 'live_end') > 0 as live_end_recorded,
        arg_max(reason, received_at) filter (where event_type = 'live_end') as live_end_reason
    from events
    group by room_id
),

recordings as (
    select
        room_id,
        min(account_handle) as account_handle,
        min(started_at) as started_at,
        max(coalesce(ended_at, started_at)) as ended_at,
        count(*) as recordings,
        cast(sum(coalesce(reconnects, greatest(connection_count - 1, 0))) as bigint) as reconnects,
        coalesce(bool_or(end_seen), false) as end_seen,
        -- the last recording to end says how the logging ended
        arg_max(ended_by, coalesce(ended_at, started_at)) as last_ended_by
    from sessions
    group by room_id
),

connections as (
    -- the connections of the document each recording was taken from
    select
        sessions.room_id,
        connections.connected_at,
        coalesce(connections.disconnected_at, sessions.ended_at, connections.connected_at) as disconnected_at
    from {{ ref('stg_live__connections') }} as connections
    inner join sessions
        on connections.session_id = sessions.session_id
        and connections.document_id = sessions.document_id
),

connection_reach as (
    -- how far the connections opened before this one reach: a connection opening after that is a gap
    select
        room_id,
        connected_at,
        max(disconnected_at) over (
            partition by room_id
            order by connected_at, disconnected_at
            rows between unbounded preceding and 1 preceding
        ) as covered_until
    from connections
),

gaps as (
    select
        room_id,
        count(*) as gap_count,
        sum(epoch_ms(connected_at) - epoch_ms(covered_until)) / 1000.0 as gap_s
    from connection_reach
    where connected_at > covered_until
    group by room_id
),

rooms as (
    select room_id from recordings
    union
    select room_id from event_bounds
),

spans as (
    select
        rooms.room_id,
        coalesce(recordings.account_handle, event_bounds.account_handle) as account_handle,
        least(recordings.started_at, event_bounds.first_received_at) as started_at,
        greatest(recordings.ended_at, event_bounds.last_received_at) as ended_at,
        coalesce(recordings.recordings, 0) as recordings,
        coalesce(recordings.reconnects, 0) as reconnects,
        coalesce(gaps.gap_count, 0) as gap_count,
        coalesce(gaps.gap_s, 0) as gap_s,
        coalesce(recordings.end_seen, false) or coalesce(event_bounds.live_end_recorded, false) as end_seen,
        coalesce(event_bounds.live_end_reason, recordings.last_ended_by, 'unknown') as end_reason
    from rooms
    left join recordings on rooms.room_id = recordings.room_id
    left join event_bounds on rooms.room_id = event_bounds.room_id
    left join gaps on rooms.room_id = gaps.room_id
)

select
    spans.account_handle,
    spans.room_id,
    -- a LIVE belongs to the day it started, in the account's time zone
    cast(timezone(zones.account_timezone, timezone('UTC', spans.started_at)) as date) as metric_date,
    zones.account_timezone,
    spans.started_at,
    spans.ended_at,
    (epoch_ms(spans.ended_at) - epoch_ms(spans.started_at)) / 1000.0 as duration_s,
    spans.end_reason,
    spans.end_seen,
    spans.recordings,
    spans.reconnects,
    spans.gap_count,
    spans.gap_s
from spans
left join {{ ref('int_live_accounts__timezones') }} as zones
    on spans.account_handle = zones.account_handle
