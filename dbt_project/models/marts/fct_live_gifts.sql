-- One row per completed gift send in a LIVE: a streak collapsed into one send with its final count,
-- replayed events removed, the recipient kept (a guest in a battle or multi-guest LIVE, else the host).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['room_id'],
        on_schema_change='fail',
        pre_hook="{{ delete_rooms_recomputed_or_gone() }}"
    )
}}

with rooms as (
    -- recomputed per LIVE, like fct_live_sessions
    select
        room_id,
        metric_date
    from {{ ref('int_live_rooms__spans') }}
    where {{ incremental_window('cast(ended_at as date)') }}
)

select
    gifts.account_handle,
    gifts.room_id,
    rooms.metric_date,
    gifts.gift_send_id,
    gifts.sent_at,
    gifts.user_id,
    gifts.to_user_id,
    gifts.is_to_host,
    gifts.gift_id,
    gifts.gift_name,
    gifts.gift_type,
    gifts.is_streak,
    gifts.repeat_count,
    gifts.diamond_per_gift,
    gifts.diamonds,
    {{ live_diamonds_usd('gifts.diamonds') }} as diamonds_usd,
    gifts.is_complete,
    gifts.streak_events
from {{ ref('int_live_gifts__completed') }} as gifts
inner join rooms on gifts.room_id = rooms.room_id
