-- One row per account per video per metric_date, next to the same video's previous snapshot.
-- Lifetime counters only turn into growth by comparing snapshots, which may be days apart.
with snapshots as (
    select
        account_handle,
        video_id,
        metric_date,
        post_date,
        views_total,
        likes_total,
        comments_total,
        shares_total,
        snapshot_source
    from {{ ref('int_video_snapshots__unioned') }}
)

select
    account_handle,
    video_id,
    metric_date,
    post_date,
    views_total,
    likes_total,
    comments_total,
    shares_total,
    snapshot_source,
    -- the previous snapshot of the same video, whatever the gap and whichever source won its day
    lag(metric_date) over video_history as previous_snapshot_date,
    lag(snapshot_source) over video_history as previous_snapshot_source,
    lag(views_total) over video_history as previous_views_total,
    lag(likes_total) over video_history as previous_likes_total,
    lag(comments_total) over video_history as previous_comments_total,
    lag(shares_total) over video_history as previous_shares_total,
    metric_date - lag(metric_date) over video_history as days_since_previous_snapshot,
    row_number() over video_history = 1 as is_first_snapshot
from snapshots
window video_history as (partition by account_handle, video_id order by metric_date)
