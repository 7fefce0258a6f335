-- One row per LIVE (room_id) per minute from the minute it started to the minute it ended: the viewer
-- curve and what happened in that minute.
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
    select *
    from {{ ref('int_live_rooms__spans') }}
    where {{ incremental_window('cast(ended_at as date)') }}
),

minutes as (
    select
        account_handle,
        room_id,
        metric_date,
        unnest(
            generate_series(date_trunc('minute', started_at), date_trunc('minute', ended_at), interval 1 minute)
        ) as minute_at
    from rooms
),

minute_bounds as (
    select
        *,
        minute_at + interval 1 minute as minute_end
    from minutes
),

viewer_minutes as (
    -- the viewer curve holds each sample until the next one; in a minute it takes the value carried in
    -- from before the minute and every sample inside it
    select
        minute_bounds.room_id,
        minute_bounds.minute_at,
        arg_max(held.viewer_count, held.sample_number) as viewers_last,
        min(held.viewer_count) as viewers_min,
        max(held.viewer_count) as viewers_max,
        coalesce(
            sum(
                held.viewer_count
                * (
                    epoch_ms(least(minute_bounds.minute_end, held.held_until))
                    - epoch_ms(greatest(minute_bounds.minute_at, held.sampled_at))
                )
            )
            / nullif(
                sum(
                    epoch_ms(least(minute_bounds.minute_end, held.held_until))
                    - epoch_ms(greatest(minute_bounds.minute_at, held.sampled_at))
                ),
                0
            ),
            avg(held.viewer_count)
        ) as viewers_avg,
        count(*) filter (where held.sampled_at >= minute_bounds.minute_at) as viewer_samples
    from minute_bounds
    inner join {{ ref('int_live_viewers__held') }} as held
        on minute_bounds.room_id = held.room_id
        and minute_bounds.minute_end > held.sampled_at
        and (minute_bounds.minute_at <= held.sampled_at or minute_bounds.minute_at < held.held_until)
    group by minute_bounds.room_id, minute_bounds.minute_at
),

events as (
    select
        events.room_id,
        date_trunc('minute', events.received_at) as minute_at,
        events.event_type,
        events.received_at,
        events.session_id,
        events.seq,
        events.like_count,
        events.total_likes
    from {{ ref('stg_live__events') }} as events
    inner join rooms on events.room_id = rooms.room_id
),

event_minutes as (
    select
        room_id,
        minute_at,
        count(*) filter (where event_type = 'comment') as comments,
        count(*) filter (where event_type = 'share') as shares,
        count(*) filter (where event_type = 'follow') as follows,
        count(*) filter (where event_type = 'join') as joins
    from events
    group by room_id, minute_at
),

hearts_so_far as (
    -- the LIVE's hearts up to each like event: the room's running total, or the running sum of the
    -- increments when a log has no totals (the same rule as fct_live_sessions.hearts)
    select
        room_id,
        minute_at,
        cast(greatest(
            max(total_likes) over running,
            sum(like_count) over running
        ) as bigint) as hearts_so_far
    from events
    where event_type = 'like'
    window running as (
        partition by room_id
        order by received_at, session_id, seq
        rows between unbounded preceding and current row
    )
),

heart_minutes as (
    select
        room_id,
        minute_at,
        max(hearts_so_far) as hearts_so_far
    from hearts_so_far
    group by room_id, minute_at
),

gift_minutes as (
    select
        gifts.room_id,
        date_trunc('minute', gifts.sent_at) as minute_at,
        cast(sum(gifts.repeat_count) as bigint) as gifts,
        cast(sum(gifts.diamonds) as bigint) as diamonds
    from {{ ref('int_live_gifts__completed') }} as gifts
    inner join rooms on gifts.room_id = rooms.room_id
    where gifts.is_to_host
    group by gifts.room_id, date_trunc('minute', gifts.sent_at)
),

joined as (
    select
        minute_bounds.account_handle,
        minute_bounds.room_id,
        minute_bounds.metric_date,
        minute_bounds.minute_at,
        viewer_minutes.viewers_last,
        viewer_minutes.viewers_min,
        viewer_minutes.viewers_max,
        viewer_minutes.viewers_avg,
        coalesce(viewer_minutes.viewer_samples, 0) as viewer_samples,
        -- hearts up to the end of the minute, carried through minutes without a like event
        max(heart_minutes.hearts_so_far) over (
            partition by minute_bounds.room_id
            order by minute_bounds.minute_at
            rows between unbounded preceding and current row
        ) as hearts_by_minute_end,
        coalesce(event_minutes.comments, 0) as comments,
        coalesce(event_minutes.shares, 0) as shares,
        coalesce(event_minutes.follows, 0) as follows,
        coalesce(event_minutes.joins, 0) as joins,
        coalesce(gift_minutes.gifts, 0) as gifts,
        coalesce(gift_minutes.diamonds, 0) as diamonds
    from minute_bounds
    left join viewer_minutes
        on minute_bounds.room_id = viewer_minutes.room_id and minute_bounds.minute_at = viewer_minutes.minute_at
    left join event_minutes
        on minute_bounds.room_id = event_minutes.room_id and minute_bounds.minute_at = event_minutes.minute_at
    left join heart_minutes
        on minute_bounds.room_id = heart_minutes.room_id and minute_bounds.minute_at = heart_minutes.minute_at
    left join gift_minutes
        on minute_bounds.room_id = gift_minutes.room_id and minute_bounds.minute_at = gift_minutes.minute_at
)

select
    account_handle,
    room_id,
    metric_date,
    minute_at,
    viewers_last,
    viewers_min,
    viewers_max,
    viewers_avg,
    viewer_samples,
    viewer_samples = 0 as has_no_sample,
    coalesce(hearts_by_minute_end, 0)
    - coalesce(lag(hearts_by_minute_end) over (partition by room_id order by minute_at), 0) as hearts,
    comments,
    shares,
    follows,
    joins,
    gifts,
    diamonds
from joined
