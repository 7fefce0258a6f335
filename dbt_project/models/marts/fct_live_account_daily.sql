-- One row per account per day any LIVE source reports on: a LIVE of an event log started that day (in
-- the account's time zone), a LIVE Center file lists the day, or a one-day Backstage delta ends on it (for an
-- account whose day is UTC's: Backstage counts UTC days).
-- The headline figures come from one source per row (figures_source); each source's figures sit beside.
-- A table, rebuilt whole: a day no source reports any more must go (a later recording moved a LIVE to the day
-- before in the account's time zone, a log re-landed under another account, a recording withdrawn), which
-- delete+insert by key never does; it reads the LIVE marts and LIVE Center's few rows, never the events.
{{ config(materialized='table') }}

with logged as (
    select
        account_handle,
        metric_date,
        count(*) as lives,
        sum(duration_s) / 60.0 as minutes_live,
        max(peak_viewers) as peak_viewers,
        cast(sum(hearts) as bigint) as hearts,
        cast(sum(diamonds) as bigint) as diamonds,
        cast(sum(follows) as bigint) as new_followers
    from {{ ref('fct_live_sessions') }}
    group by account_handle, metric_date
),

center_days as (
    select
        account_handle,
        metric_date
    from {{ ref('stg_live__center_activity') }}
    union
    select
        account_handle,
        metric_date
    from {{ ref('stg_live__center_viewers') }}
    union
    select
        account_handle,
        metric_date
    from {{ ref('stg_live__center_engagement') }}
    union
    select
        account_handle,
        metric_date
    from {{ ref('stg_live__center_revenue') }}
),

center as (
    select
        center_days.account_handle,
        center_days.metric_date,
        activity.live_count is not null as has_activity,
        activity.live_count as lives,
        activity.live_duration_s / 60.0 as minutes_live,
        viewers.top_viewer_count as peak_viewers,
        engagement.likes as hearts,
        revenue.diamonds,
        engagement.new_followers
    from center_days
    left join {{ ref('stg_live__center_activity') }} as activity
        on center_days.account_handle = activity.account_handle and center_days.metric_date = activity.metric_date
    left join {{ ref('stg_live__center_viewers') }} as viewers
        on center_days.account_handle = viewers.account_handle and center_days.metric_date = viewers.metric_date
    left join {{ ref('stg_live__center_engagement') }} as engagement
        on center_days.account_handle = engagement.account_handle
        and center_days.metric_date = engagement.metric_date
    left join {{ ref('stg_live__center_revenue') }} as revenue
        on center_days.account_handle = revenue.account_handle and center_days.metric_date = revenue.metric_date
),

backstage_days as (
    -- only deltas that cover exactly one day are a day's figures; Backstage days are UTC+0 days
    select
        creator_handle as account_handle,
        metric_date,
        cast(sum(live_streams_delta) as bigint) as lives,
        sum(live_duration_delta_s) / 60.0 as minutes_live,
        cast(sum(diamonds_delta) as bigint) as diamonds,
        cast(sum(new_followers_delta) as bigint) as new_followers
    from {{ ref('fct_live_backstage_daily') }}
    where days_covered = 1
    group by creator_handle, metric_date
),

backstage as (
    -- a Backstage day is the account's day only where the account's day is UTC's (both midnights at offset 0):
    -- elsewhere a LIVE after local midnight (00:15 in Tokyo is 15:15 UTC the day before) sat on one day from its
    -- log and on the day before from Backstage, counted twice in a week's sum (review). Those stay in
    -- fct_live_backstage_daily, by UTC day.
    select backstage_days.*
    from backstage_days
    left join {{ ref('int_live_accounts__timezones') }} as zones
        on backstage_days.account_handle = zones.account_handle
    where
        timezone(
            coalesce(zones.account_timezone, '{{ var("live_default_timezone") }}'),
            cast(backstage_days.metric_date as timestamp)
        ) = timezone('UTC', cast(backstage_days.metric_date as timestamp))
        and timezone(
            coalesce(zones.account_timezone, '{{ var("live_default_timezone") }}'),
            cast(backstage_days.metric_date + 1 as timestamp)
        ) = timezone('UTC', cast(backstage_days.metric_date + 1 as timestamp))
),

days as (
    select
        account_handle,
        metric_date
    from logged
    union
    select
        account_handle,
        metric_date
    from center
    union
    select
        account_handle,
        metric_date
    from backstage
),

sourced as (
    -- LIVE Center is TikTok's own daily figure and counts every LIVE; an event log only the LIVEs
    -- recorded; Backstage has no hearts or viewers. A source covers a day when it says how many LIVEs.
    select
        days.account_handle,
        days.metric_date,
        case
            when center.has_activity then 'live_center'
            when logged.lives is not null then 'event_log'
            when backstage.lives is not null then 'backstage'
            -- LIVE Center files without the activity one: what they have
            else 'live_center'
        end as figures_source,
        logged.lives as log_lives,
        logged.minutes_live as log_minutes_live,
        logged.peak_viewers as log_peak_viewers,
        logged.hearts as log_hearts,
        logged.diamonds as log_diamonds,
        logged.new_followers as log_new_followers,
        center.lives as live_center_lives,
        center.minutes_live as live_center_minutes_live,
        center.peak_viewers as live_center_peak_viewers,
        center.hearts as live_center_hearts,
        center.diamonds as live_center_diamonds,
        center.new_followers as live_center_new_followers,
        backstage.lives as backstage_lives,
        backstage.minutes_live as backstage_minutes_live,
        backstage.diamonds as backstage_diamonds,
        backstage.new_followers as backstage_new_followers
    from days
    left join logged on days.account_handle = logged.account_handle and days.metric_date = logged.metric_date
    left join center on days.account_handle = center.account_handle and days.metric_date = center.metric_date
    left join backstage
        on days.account_handle = backstage.account_handle and days.metric_date = backstage.metric_date
),

headline as (
    select
        account_handle,
        metric_date,
        figures_source,
        {%- for figure in ['lives', 'minutes_live', 'peak_viewers', 'hearts', 'diamonds', 'new_followers'] %}
            case figures_source
                when 'live_center' then live_center_{{ figure }}
                when 'event_log' then log_{{ figure }}
                {%- if figure not in ('peak_viewers', 'hearts') %}
                    when 'backstage' then backstage_{{ figure }}
                {%- endif %}
            end as {{ figure }},
        {%- endfor %}
        log_lives,
        log_minutes_live,
        log_peak_viewers,
        log_hearts,
        log_diamonds,
        log_new_followers,
        live_center_lives,
        live_center_minutes_live,
        live_center_peak_viewers,
        live_center_hearts,
        live_center_diamonds,
        live_center_new_followers,
        backstage_lives,
        backstage_minutes_live,
        backstage_diamonds,
        backstage_new_followers
    from sourced
)

select
    account_handle,
    metric_date,
    figures_source,
    lives,
    minutes_live,
    peak_viewers,
    hearts,
    diamonds,
    {{ live_diamonds_usd('diamonds') }} as diamonds_usd,
    new_followers,
    log_lives,
    log_minutes_live,
    log_peak_viewers,
    log_hearts,
    log_diamonds,
    log_new_followers,
    live_center_lives,
    live_center_minutes_live,
    live_center_peak_viewers,
    live_center_hearts,
    live_center_diamonds,
    live_center_new_followers,
    backstage_lives,
    backstage_minutes_live,
    backstage_diamonds,
    backstage_new_followers
from headline
