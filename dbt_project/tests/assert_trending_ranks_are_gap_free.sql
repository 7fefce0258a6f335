-- Each ranking runs 1..n without gaps (row_number, not rank): the highest rank equals the row count.
select
    account_handle,
    as_of_date,
    count(*) as ranked_videos,
    max(trending_rank) as highest_rank
from {{ ref('rpt_trending_videos_7d') }}
group by account_handle, as_of_date
having max(trending_rank) <> count(*)
