-- One row per account per video per metric_date, next to the same video's previous snapshot.
-- Lifetime counters only turn into growth by comparing snapshots, which may be days apart. The query is the macro
-- video_snapshots_with_previous, which fct_video_engagement_daily's incremental builds also run over their window.
{{ video_snapshots_with_previous(ref('int_video_snapshots__unioned')) }}
