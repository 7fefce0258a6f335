-- One row per concurrent-viewer sample of a LIVE, with how long it held: until the next sample, the
-- last one until the LIVE's end. Viewer counts arrive at irregular times, so averages weight by held_s.
with samples as (
    select
        events.room_id,
        events.received_at as sampled_at,
        events.viewer_count,
        events.total_user,
        events.session_id,
        events.seq
    from {{ ref('stg_live__events') }} as events
    where events.event_type = 'viewers' and events.viewer_count is not null
),

ordered as (
    select
        samples.room_id,
        row_number() over room_samples as sample_number,
        samples.session_id,
        samples.seq,
        samples.sampled_at,
        samples.viewer_count,
        samples.total_user,
        coalesce(lead(samples.sampled_at) over room_samples, spans.ended_at) as held_until
    from samples
    inner join {{ ref('int_live_rooms__spans') }} as spans on samples.room_id = spans.room_id
    window room_samples as (
        partition by samples.room_id order by samples.sampled_at, samples.session_id, samples.seq
    )
)

select
    room_id,
    sample_number,
    session_id,
    seq,
    sampled_at,
    viewer_count,
    total_user,
    held_until,
    (epoch_ms(held_until) - epoch_ms(sampled_at)) / 1000.0 as held_s
from ordered
