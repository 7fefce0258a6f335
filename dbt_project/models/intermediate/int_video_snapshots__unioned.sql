-- One row per account per video per metric_date, across every source of per-video lifetime totals.
--
-- Sources: TikTok's Business API and Display API v2 (daily snapshots of every public video, see
-- docs/api-sources.md) and Studio's Content export. When two sources saw the same video on the same
-- day, the lower source_priority wins: api_business (1), api_display (2), studio_content (3)
-- (DECISIONS.md, "Video snapshot sources"). Mixing sources within a day would otherwise book the gap
-- between Studio and API numbers as growth.

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ replace_build_window('metric_date') }}",
        on_schema_change='fail'
    )
}}
{#- A table, not a view: every video mart and the previous-snapshot view read it, each in full. A day's
    winner is chosen among that day's snapshots only, so a build recomputes the days from min_date and
    keeps the others (replace_build_window). -#}

{#- Both sources share these columns (ids, dates, attributes, lifetime totals); only the lineage and
    precedence columns below differ. -#}
{%- set shared_columns = [
    'account_handle', 'video_id', 'metric_date', 'post_date', 'video_title', 'video_link',
    'views_total', 'likes_total', 'comments_total', 'shares_total',
] %}

with unioned as (
    select
        {{ shared_columns | join(',\n        ') }},
        'studio_content' as snapshot_source,
        3 as source_priority,
        exported_at as observed_at,
        document_id
    from {{ ref('stg_studio__content') }}

    union all

    -- metric_date: the account-local day of the pull; post_date: the creation day in that zone
    select
        {{ shared_columns | join(',\n        ') }},
        'api_' || api as snapshot_source,
        case api when 'business' then 1 else 2 end as source_priority,
        pulled_at as observed_at,
        pull_id as document_id
    from {{ ref('stg_tiktok_api__video_snapshots') }}
)

select *
from unioned
where {{ incremental_window('metric_date') }}
qualify row_number() over (
    partition by account_handle, video_id, metric_date
    order by source_priority asc, observed_at desc, document_id desc
) = 1
