-- One row per account per video per snapshot_date, across every source of per-video lifetime totals.
--
-- Today the only source is Studio's Content export. A TikTok API snapshot source joins the union as
-- another CTE with the same columns; when two sources saw the same video on the same day, the lower
-- source_priority wins (DECISIONS.md, "Video snapshot sources"). Mixing sources within a day would
-- otherwise book the gap between Studio and API numbers as growth.
with studio_content as (
    select
        -- ids
        account_handle,
        video_id,
        -- dates
        snapshot_date,
        post_date,
        -- attributes
        video_title,
        video_link,
        -- lifetime totals
        views_total,
        likes_total,
        comments_total,
        shares_total,
        -- lineage and precedence
        'studio_content' as snapshot_source,
        1 as source_priority,
        exported_at as observed_at,
        document_id
    from {{ ref('stg_studio__content') }}
),

unioned as (
    select * from studio_content
)

select
    account_handle,
    video_id,
    snapshot_date,
    post_date,
    video_title,
    video_link,
    views_total,
    likes_total,
    comments_total,
    shares_total,
    snapshot_source,
    source_priority,
    observed_at,
    document_id
from unioned
qualify row_number() over (
    partition by account_handle, video_id, snapshot_date
    order by source_priority, observed_at desc, document_id desc
) = 1
