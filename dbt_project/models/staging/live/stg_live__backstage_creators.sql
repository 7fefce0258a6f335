-- One row per creator per snapshot day (period_end) of LIVE Backstage "Creator data" downloads.
with source as (
    select * from {{ source('live', 'live_backstage_creators') }}
),

renamed as (
    select
        -- ids and lineage
        cast(creator_id as varchar) as creator_id,
        cast(creator_username as varchar) as creator_username,
        -- a creator listed under a former handle is the current account (account_handle_aliases)
        {{ canonical_handle("lower(ltrim(trim(creator_username), '@'))") }} as creator_handle,
        cast(has_quit as boolean) as has_quit,
        cast(network_manager as varchar) as network_manager,
        cast(tier_status as varchar) as tier_status,
        cast(document_id as varchar) as document_id,
        cast(source_row as integer) as source_row,
        -- dates
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(exported_at as timestamp) as exported_at,
        -- counters over the period (month-to-date for TikTok's default period)
        cast(diamonds as bigint) as diamonds,
        cast(live_duration_s as bigint) as live_duration_s,
        cast(valid_live_days as bigint) as valid_live_days,
        cast(new_followers as bigint) as new_followers,
        cast(live_streams as bigint) as live_streams,
        cast(matches as bigint) as matches
    from source
),

known_ids as (
    -- the id each username last had: a creator who quit is listed by username only
    select
        creator_handle,
        creator_id
    from renamed
    where creator_id is not null
    qualify row_number() over (
        partition by creator_handle order by exported_at desc, creator_id desc
    ) = 1
),

keyed as (
    select
        coalesce(renamed.creator_id, known_ids.creator_id, '@' || renamed.creator_handle) as creator_key,
        coalesce(renamed.creator_id, known_ids.creator_id) as creator_id,
        renamed.creator_username,
        renamed.creator_handle,
        renamed.has_quit,
        renamed.network_manager,
        renamed.tier_status,
        renamed.period_start,
        renamed.period_end,
        renamed.diamonds,
        renamed.live_duration_s,
        renamed.valid_live_days,
        renamed.new_followers,
        renamed.live_streams,
        renamed.matches,
        renamed.exported_at,
        renamed.document_id,
        renamed.source_row
    from renamed
    left join known_ids on renamed.creator_handle = known_ids.creator_handle
)

select * from keyed
-- one snapshot per creator and day: a month-to-date download beats a custom period ending the same
-- day (only month-to-date counters chain into daily deltas), then the newest download; a file received
-- twice is the same rows
qualify row_number() over (
    partition by creator_key, period_end
    order by
        (period_start = date_trunc('month', period_end)) desc,
        exported_at desc,
        document_id desc,
        source_row desc
) = 1
