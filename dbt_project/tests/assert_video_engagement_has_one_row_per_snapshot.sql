-- Promise: fct_video_engagement_daily has exactly one row per video snapshot of
-- int_video_snapshots__unioned (every source, one snapshot per video and day): per video, the mart has
-- as many days as the video has snapshots. Returns each video whose two counts differ, with both.
-- A narrowed daily build compares the days from its first rebuilt one on (`tests_window`), a whole build all.
-- Only the key columns both models share by name are used (account_handle, video_id).
-- Attached to the mart in Dagster (a test that refs two models needs the meta to say which one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_video_engagement_daily'}}}) }}

with mart as (
    select
        account_handle,
        video_id,
        count(*) as mart_rows
    from {{ ref('fct_video_engagement_daily') }}
    where {{ tests_window('metric_date') }}
    group by account_handle, video_id
),

snapshots as (
    select
        account_handle,
        video_id,
        count(*) as snapshot_rows
    from {{ ref('int_video_snapshots__unioned') }}
    where {{ tests_window('metric_date') }}
    group by account_handle, video_id
)

select
    coalesce(mart.account_handle, snapshots.account_handle) as account_handle,
    coalesce(mart.video_id, snapshots.video_id) as video_id,
    coalesce(mart.mart_rows, 0) as mart_rows,
    coalesce(snapshots.snapshot_rows, 0) as snapshot_rows
from mart
full outer join snapshots
    on mart.account_handle = snapshots.account_handle
    and mart.video_id = snapshots.video_id
where coalesce(mart.mart_rows, 0) <> coalesce(snapshots.snapshot_rows, 0)
