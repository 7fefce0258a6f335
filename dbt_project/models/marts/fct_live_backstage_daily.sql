-- One row per creator (creator_key) per day a LIVE Backstage download runs to (period_end): TikTok's
-- month-to-date counters and the daily deltas taken from them.
-- A table, rebuilt whole: a creator who quit is keyed by username until a download naming the id lands (even an
-- older one), and then by the id on every day; delete+insert by key kept the rows under the old key (his days
-- twice). The chain reads every download anyway, and an agency's Backstage history is small.
{{ config(materialized='table') }}

with snapshots as (
    select * from {{ ref('stg_live__backstage_creators') }}
),

chained as (
    -- the counters run from period_start (the 1st: they reset every month), so a day's figure is the
    -- difference with the previous snapshot of the same period. Over the whole history, before the filter.
    select
        *,
        lag(period_end) over period_snapshots as previous_period_end,
        lag(diamonds) over period_snapshots as previous_diamonds,
        lag(live_duration_s) over period_snapshots as previous_live_duration_s,
        lag(valid_live_days) over period_snapshots as previous_valid_live_days,
        lag(new_followers) over period_snapshots as previous_new_followers,
        lag(live_streams) over period_snapshots as previous_live_streams,
        lag(matches) over period_snapshots as previous_matches
    from snapshots
    window period_snapshots as (partition by creator_key, period_start order by period_end)
),

deltas as (
    -- the first snapshot of a period is its own delta; a counter missing from either snapshot gives null
    select
        *,
        case when previous_period_end is null then diamonds else diamonds - previous_diamonds end
            as diamonds_delta,
        case
            when previous_period_end is null then live_duration_s
            else live_duration_s - previous_live_duration_s
        end as live_duration_delta_s,
        case
            when previous_period_end is null then valid_live_days
            else valid_live_days - previous_valid_live_days
        end as valid_live_days_delta,
        case
            when previous_period_end is null then new_followers
            else new_followers - previous_new_followers
        end as new_followers_delta,
        case
            when previous_period_end is null then live_streams
            else live_streams - previous_live_streams
        end as live_streams_delta,
        case when previous_period_end is null then matches else matches - previous_matches end
            as matches_delta
    from chained
)

select
    creator_key,
    creator_id,
    creator_username,
    creator_handle,
    has_quit,
    period_end as metric_date,
    period_start,
    previous_period_end,
    -- the days the deltas cover: since the previous snapshot, or the whole period for its first one
    coalesce(period_end - previous_period_end, period_end - period_start + 1) as days_covered,
    previous_period_end is null as counters_reset,
    -- TikTok restated a month-to-date counter downwards (removed diamonds, a corrected duration). A
    -- duration printed in decimal hours ("88.46h") is rounded to 36 s: a smaller drop is that rounding.
    coalesce(
        diamonds_delta < 0
        or live_duration_delta_s < -{{ var('backstage_duration_rounding_s') }}
        or valid_live_days_delta < 0
        or new_followers_delta < 0
        or live_streams_delta < 0
        or matches_delta < 0,
        false
    ) as is_restated,
    diamonds as diamonds_mtd,
    diamonds_delta,
    {{ live_diamonds_usd('diamonds_delta') }} as diamonds_delta_usd,
    live_duration_s as live_duration_mtd_s,
    live_duration_delta_s,
    valid_live_days as valid_live_days_mtd,
    valid_live_days_delta,
    new_followers as new_followers_mtd,
    new_followers_delta,
    live_streams as live_streams_mtd,
    live_streams_delta,
    matches as matches_mtd,
    matches_delta
from deltas
