-- One row per handle (account_handle) any mart references, so relationships to this dimension always hold:
-- every account seen in an export, an API pull or a LIVE file of its own (known_from 'account_exports': coverage,
-- latest followers, videos seen, export history), and every LIVE creator named only in agency-wide LIVE Backstage
-- downloads, whose rows name their creators (known_from 'live_backstage': the handle alone, every figure null or 0;
-- their LIVE figures are fct_live_backstage_daily's). A folder holding only agency-wide files (`backstage` at the
-- inbox root) is not an account: it is in rpt_account_freshness under the folder's name.
-- Where a mart holds exactly the keys of a staging view (every row of the view, no filter), the mart is read:
-- a table's column scan instead of each view's newest-export deduplication over the whole history.
with daily_metric_days as (
    -- the daily sections: days the account has account-level numbers for (Overview and Viewers: their
    -- full outer join, fct_account_overview_daily)
    select
        account_handle,
        metric_date
    from {{ ref('fct_account_overview_daily') }}
    union all
    select
        account_handle,
        metric_date
    from {{ ref('stg_studio__follower_history') }}
),

metric_coverage as (
    select
        account_handle,
        min(metric_date) as first_metric_date,
        max(metric_date) as last_metric_date
    from daily_metric_days
    group by account_handle
),

latest_followers as (
    -- Studio FollowerHistory, else the TikTok APIs (int_follower_counts__unioned), read from the growth mart: its
    -- known counts are that view's, on the same days, and its accounts the same. Every count of the view is in the
    -- mart (the singular test assert_follower_growth_keeps_every_known_count); the mart has no other (its spine's
    -- other days are a left join's nulls, and what can remove a raw row, a move or a replay, refreshes it whole).
    -- A 300 x 90 warehouse: 270 -> 188 ms. (dim_accounts now waits for the mart and its singular tests.)
    select
        account_handle,
        arg_max(followers, metric_date) filter (where followers is not null) as latest_followers,
        max(metric_date) filter (where followers is not null) as latest_followers_date
    from {{ ref('fct_follower_growth_daily') }}
    group by account_handle
),

videos as (
    select
        account_handle,
        count(distinct video_id) as videos_seen,
        max(metric_date) as last_video_snapshot_date
    from {{ ref('int_video_snapshots__unioned') }}
    group by account_handle
),

documents as (
    select
        account_handle,
        min(export_date) filter (where status = 'loaded') as first_export_date,
        max(export_date) filter (where status = 'loaded') as last_export_date,
        -- an export downloaded twice (`Overview (1).zip`: the same bytes, the same export day) is one
        count(distinct struct_pack(bytes := {{ document_bytes_of('document_id') }}, export_date)) filter (
            where status = 'loaded'
        ) as documents_loaded,
        count(*) filter (where status = 'quarantined' and not is_superseded) as documents_quarantined,
        -- an account's own file loaded, or nothing loaded but a file still quarantined (it must show): not a
        -- folder of agency-wide files, nor one whose only file was moved where it belongs (superseded)
        (
            bool_or(status = 'loaded' and not is_agency_wide)
            or (
                bool_or(status = 'quarantined' and not is_superseded and not is_agency_wide)
                and not bool_or(status = 'loaded')
            )
        ) as has_account_files
    from {{ ref('stg_studio__documents') }}
    where account_handle is not null
    group by account_handle
),

own_accounts as (
    -- the accounts with data of their own: files filed under them (Studio, LIVE logs, LIVE Center), API pulls
    select account_handle from metric_coverage
    union
    select account_handle from videos
    union
    select account_handle from documents
    where has_account_files
    union
    select account_handle from latest_followers
    -- the follower marts, not their staging models (the same accounts); recorded LIVEs (fct_live_sessions: the
    -- log's host, whose rooms are fct_live_viewers_minutely's too; a gift keeps its own log's account); LIVE
    -- Center's daily files (the account's folder: fct_live_account_daily's days from LIVE Center)
    {%- for model in [
        'fct_follower_activity_hourly', 'fct_follower_gender_snapshot', 'fct_follower_territory_snapshot',
        'fct_live_sessions', 'fct_live_gifts',
        'stg_live__center_activity', 'stg_live__center_viewers', 'stg_live__center_engagement',
        'stg_live__center_revenue'
    ] %}
        union
        select account_handle from {{ ref(model) }}
    {%- endfor %}
),

accounts as (
    -- every handle any mart can reference, so relationships to this dimension always hold: fct_live_account_daily's
    -- days are those of the logs, LIVE Center and Backstage, so its handles are among these
    select
        account_handle,
        'account_exports' as known_from
    from own_accounts
    union all
    -- LIVE Backstage's creators with nothing of their own: known only from the rows of an agency's downloads
    select distinct
        backstage.creator_handle as account_handle,
        'live_backstage' as known_from
    from {{ ref('fct_live_backstage_daily') }} as backstage
    where not exists (
        select 1 from own_accounts
        where own_accounts.account_handle = backstage.creator_handle
    )
)

select
    accounts.account_handle,
    accounts.known_from,
    metric_coverage.first_metric_date,
    metric_coverage.last_metric_date,
    latest_followers.latest_followers,
    latest_followers.latest_followers_date,
    coalesce(videos.videos_seen, 0) as videos_seen,
    videos.last_video_snapshot_date,
    documents.first_export_date,
    documents.last_export_date,
    coalesce(documents.documents_loaded, 0) as documents_loaded,
    coalesce(documents.documents_quarantined, 0) as documents_quarantined
from accounts
left join metric_coverage on accounts.account_handle = metric_coverage.account_handle
left join latest_followers on accounts.account_handle = latest_followers.account_handle
left join videos on accounts.account_handle = videos.account_handle
-- a Backstage creator named like an inbox folder of agency-wide downloads: that folder's files are not the creator's
left join documents
    on accounts.account_handle = documents.account_handle and accounts.known_from = 'account_exports'
