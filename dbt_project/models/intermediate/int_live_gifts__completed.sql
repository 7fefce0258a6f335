-- One row per completed gift send of a LIVE: a streak collapsed into its final count, replays already
-- removed by stg_live__events. A streakable gift (gift_type 1) sends an event per repeat with a growing
-- repeat_count; it counts once, with the count of its repeat_end event. Other gifts count at once.
with gift_events as (
    select
        account_handle,
        room_id,
        session_id,
        seq,
        coalesce(msg_id, session_id || ':' || seq) as event_id,
        received_at,
        user_id,
        to_user_id,
        gift_id,
        gift_name,
        gift_type,
        diamond_per_gift,
        repeat_count,
        coalesce(repeat_end, false) as repeat_end,
        group_id,
        -- a streak is one user's run of one gift to one recipient under one group_id; without a
        -- group_id only its repeat_end event can be told apart, and it carries the final count
        gift_type = 1 and group_id is not null as is_streak
    from {{ ref('stg_live__events') }}
    where
        event_type = 'gift'
        and (gift_type is distinct from 1 or group_id is not null or coalesce(repeat_end, false))
),

sends as (
    select
        *,
        case
            when is_streak
                then concat_ws(
                    '|', room_id, coalesce(user_id, ''), gift_id, group_id, coalesce(to_user_id, '')
                )
            else concat_ws('|', room_id, event_id)
        end as send_key
    from gift_events
),

collapsed as (
    select
        send_key,
        count(*) as streak_events,
        max(repeat_count) as repeat_count,
        bool_or(repeat_end) as streak_end_seen
    from sends
    group by send_key
),

completing_event as (
    -- the event that completes the send: the streak's repeat_end (the last one received), else its last
    select *
    from sends
    qualify row_number() over (
        partition by send_key
        order by repeat_end desc, repeat_count desc, received_at desc, session_id desc, seq desc
    ) = 1
)

select
    completing_event.account_handle,
    completing_event.room_id,
    completing_event.event_id as gift_send_id,
    completing_event.received_at as sent_at,
    completing_event.user_id,
    completing_event.to_user_id,
    completing_event.to_user_id is null as is_to_host,
    completing_event.gift_id,
    completing_event.gift_name,
    completing_event.gift_type,
    completing_event.is_streak,
    collapsed.repeat_count,
    completing_event.diamond_per_gift,
    collapsed.repeat_count * completing_event.diamond_per_gift as diamonds,
    -- a streak cut off (the recording stopped mid-streak) counts at the highest count seen
    not completing_event.is_streak or collapsed.streak_end_seen as is_complete,
    collapsed.streak_events
from completing_event
inner join collapsed on completing_event.send_key = collapsed.send_key
