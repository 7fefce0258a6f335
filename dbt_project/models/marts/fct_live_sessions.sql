-- One row per LIVE (room_id) recorded in an event log: when, how long, how it ended, how much of it the
-- log covers, its viewers, hearts, comments, follows, gifts and diamonds.
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
    -- a LIVE is recomputed whole when any of it reaches min_date (a later recording of it changes its
    -- totals): the day it ended, UTC, which is never before the day landing reports for its newest log
    select *
    from {{ ref('int_live_rooms__spans') }}
    where {{ incremental_window('cast(ended_at as date)') }}
),

events as (
    select events.*
    from {{ ref('stg_live__events') }} as events
    inner join rooms on events.room_id = rooms.room_id
),

event_totals as (
    select
        room_id,
        max(viewer_count) as peak_viewers,
        count(viewer_count) as viewer_samples,
        max(total_user) as total_viewers,
        -- big LIVEs do not send every like event: the room's running total misses none of them
        cast(coalesce(greatest(max(total_likes), sum(like_count)), 0) as bigint) as hearts,
        count(*) filter (where event_type = 'comment') as comments,
        count(distinct user_id) filter (where event_type = 'comment') as commenters,
        count(*) filter (where event_type = 'share') as shares,
        count(*) filter (where event_type = 'follow') as follows,
        count(*) filter (where event_type = 'join') as joins
    from events
    group by room_id
),

viewer_curve as (
    select
        held.room_id,
        -- each sample holds until the next one: weight by how long it held, not by how many there are
        coalesce(
            sum(held.viewer_count * held.held_s) / nullif(sum(held.held_s), 0),
            avg(held.viewer_count)
        ) as avg_viewers
    from {{ ref('int_live_viewers__held') }} as held
    inner join rooms on held.room_id = rooms.room_id
    group by held.room_id
),

gifts as (
    select gifts.*
    from {{ ref('int_live_gifts__completed') }} as gifts
    inner join rooms on gifts.room_id = rooms.room_id
),

gift_totals as (
    select
        room_id,
        cast(coalesce(sum(repeat_count) filter (where is_to_host), 0) as bigint) as gifts,
        count(distinct user_id) filter (where is_to_host) as gifters,
        cast(coalesce(sum(diamonds) filter (where is_to_host), 0) as bigint) as diamonds,
        -- battles and multi-guest LIVEs: gifts to a guest are the guest's diamonds
        cast(coalesce(sum(diamonds) filter (where not is_to_host), 0) as bigint) as diamonds_to_guests
    from gifts
    group by room_id
),

top_gifters as (
    select
        room_id,
        user_id as top_gifter_user_id,
        cast(sum(diamonds) as bigint) as top_gifter_diamonds
    from gifts
    where is_to_host and user_id is not null
    group by room_id, user_id
    qualify row_number() over (partition by room_id order by sum(diamonds) desc, user_id asc) = 1
)

select
    rooms.account_handle,
    rooms.room_id,
    rooms.metric_date,
    rooms.account_timezone,
    rooms.started_at,
    rooms.ended_at,
    rooms.duration_s,
    rooms.end_reason,
    rooms.end_seen,
    1 - {{ safe_divide('rooms.gap_s', 'rooms.duration_s') }} as coverage,
    event_totals.peak_viewers,
    viewer_curve.avg_viewers,
    event_totals.total_viewers,
    coalesce(event_totals.hearts, 0) as hearts,
    coalesce(event_totals.comments, 0) as comments,
    coalesce(event_totals.commenters, 0) as commenters,
    coalesce(event_totals.shares, 0) as shares,
    coalesce(event_totals.follows, 0) as follows,
    coalesce(event_totals.joins, 0) as joins,
    coalesce(gift_totals.gifts, 0) as gifts,
    coalesce(gift_totals.gifters, 0) as gifters,
    coalesce(gift_totals.diamonds, 0) as diamonds,
    coalesce(gift_totals.diamonds_to_guests, 0) as diamonds_to_guests,
    {{ safe_divide('coalesce(gift_totals.diamonds, 0)', 'rooms.duration_s / 3600.0') }} as diamonds_per_hour,
    {{ live_diamonds_usd('coalesce(gift_totals.diamonds, 0)') }} as diamonds_usd,
    top_gifters.top_gifter_user_id,
    top_gifters.top_gifter_diamonds,
    coalesce(event_totals.viewer_samples, 0) as viewer_samples,
    rooms.recordings,
    rooms.reconnects,
    rooms.gap_count,
    rooms.gap_s
from rooms
left join event_totals on rooms.room_id = event_totals.room_id
left join viewer_curve on rooms.room_id = viewer_curve.room_id
left join gift_totals on rooms.room_id = gift_totals.room_id
left join top_gifters on rooms.room_id = top_gifters.room_id
