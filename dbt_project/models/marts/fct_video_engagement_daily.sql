-- One row per video per day on which a snapshot saw it: lifetime totals and the growth since the
-- video's previous snapshot.
-- depends_on: {{ ref('int_video_snapshots__unioned') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ replace_build_window('metric_date') }}",
        on_schema_change='fail'
    )
}}
{#- The days from min_date are built again whole (replace_build_window), not video by video: a video a same-day
    API re-pull no longer sees (deleted, made private) leaves its day, where delete+insert by video kept it. -#}

with snapshots as (
    -- each snapshot beside its previous one (an incremental build with a window: the macro over the window; any
    -- other build: the intermediate view, the same macro over every snapshot), so filtering here is safe
    select
        account_handle,
        video_id,
        metric_date,
        post_date,
        views_total,
        likes_total,
        comments_total,
        shares_total,
        previous_views_total,
        previous_likes_total,
        previous_comments_total,
        previous_shares_total,
        days_since_previous_snapshot,
        -- what the gains are measured against. A first snapshot has no baseline: its totals only count as
        -- growth when the video is so new (posted that day or the day before) that nearly all of it
        -- happened since the last chance to see it. Two sources never match exactly (Studio lags the API),
        -- so the day a video's snapshots switch source has no baseline either: the gap is not growth.
        case
            when is_first_snapshot and post_date >= metric_date - 1 then 'zero_new_video'
            when is_first_snapshot then 'none_first_snapshot'
            when snapshot_source <> previous_snapshot_source then 'none_source_changed'
            else 'previous_snapshot'
        end as gains_baseline,
        snapshot_source
    {%- if is_incremental() and build_min_date() %}
        -- the window's snapshots beside their previous ones, however old, without sorting the whole history again
        from ({{ video_snapshots_with_previous(ref('int_video_snapshots__unioned'), since=build_min_date()) }})
    {%- else %}
        from {{ ref('int_video_snapshots__with_previous') }}
    {%- endif %}
    where {{ incremental_window('metric_date') }}
)

select
    account_handle,
    video_id,
    metric_date,
    views_total,
    likes_total,
    comments_total,
    shares_total,
    -- gains since the baseline; decreases stay visible as negative numbers
    case gains_baseline
        when 'previous_snapshot' then views_total - previous_views_total
        when 'zero_new_video' then views_total
    end as views_gained,
    case gains_baseline
        when 'previous_snapshot' then likes_total - previous_likes_total
        when 'zero_new_video' then likes_total
    end as likes_gained,
    case gains_baseline
        when 'previous_snapshot' then comments_total - previous_comments_total
        when 'zero_new_video' then comments_total
    end as comments_gained,
    case gains_baseline
        when 'previous_snapshot' then shares_total - previous_shares_total
        when 'zero_new_video' then shares_total
    end as shares_gained,
    days_since_previous_snapshot,
    {{ safe_divide('likes_total + comments_total + shares_total', 'views_total') }} as engagement_rate,
    gains_baseline,  -- added last: the published column order stays as it was
    snapshot_source
from snapshots
