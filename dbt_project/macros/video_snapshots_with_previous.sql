{#-
    Each video snapshot of `relation` (int_video_snapshots__unioned's columns) beside the same video's previous
    snapshot, whatever the gap and whichever source won its day, as a query.
    With `since` (a build window's first day), only the snapshots from that day on, each still beside its previous
    one however old: the lags run over the window's snapshots and each of their videos' last snapshot before it,
    not over every video's whole history, which the window's rows never need (a 300 x 90 warehouse, one more day:
    360,022 snapshots sorted for 4,063 -> a 4,063-row window plus 1 earlier snapshot a video; 194 -> 27 ms on one
    thread, the same rows). Without `since`: every snapshot.
-#}
{% macro video_snapshots_with_previous(relation, since=none) -%}
    {%- set columns = ['account_handle', 'video_id', 'metric_date', 'post_date', 'views_total', 'likes_total',
                       'comments_total', 'shares_total', 'snapshot_source'] -%}
    with snapshots as (
        select {{ columns | join(', ') }}
        from {{ relation }}
        where {{ rows_from('metric_date', since) }}
    ),

    {%- if since %}

        earlier_snapshots as (
            -- what the window's first snapshot of a video follows: that video's last snapshot before the window
            select {{ columns | join(', ') }}
            from {{ relation }}
            where
                metric_date < cast('{{ since }}' as date)
                and (account_handle, video_id) in (select (account_handle, video_id) from snapshots)
            qualify row_number() over (partition by account_handle, video_id order by metric_date desc) = 1
        ),
    {%- endif %}

    video_history as (
        select * from snapshots
        {%- if since %}
            union all
            select * from earlier_snapshots
        {%- endif %}
    ),

    with_previous as (
        select
            {{ columns | join(',\n            ') }},
            lag(metric_date) over video_days as previous_snapshot_date,
            lag(snapshot_source) over video_days as previous_snapshot_source,
            lag(views_total) over video_days as previous_views_total,
            lag(likes_total) over video_days as previous_likes_total,
            lag(comments_total) over video_days as previous_comments_total,
            lag(shares_total) over video_days as previous_shares_total,
            metric_date - lag(metric_date) over video_days as days_since_previous_snapshot,
            row_number() over video_days = 1 as is_first_snapshot
        from video_history
        window video_days as (partition by account_handle, video_id order by metric_date)
    )

    -- an earlier snapshot only served as a previous one
    select * from with_previous
    where {{ rows_from('metric_date', since) }}
{%- endmacro %}
