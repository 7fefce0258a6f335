-- One row per account (or inbox folder of agency-wide downloads) per source of exports (Studio files, LIVE files,
-- each TikTok API): the newest export or pull, and how far it lags the newest one anywhere in the warehouse.
with documents as (
    -- raw.documents holds every received file, Studio and LIVE (file kinds live_*)
    select
        account_handle,
        case when file_kind like 'live%' then 'live' else 'studio' end as export_source,
        export_date,
        status = 'loaded' as is_loaded,
        -- an export downloaded twice (the same bytes, the same export day) counts once
        struct_pack(bytes := {{ document_bytes_of('document_id') }}, export_date) as export_key
    from {{ ref('stg_studio__documents') }}
    -- a quarantined file a corrected one replaced at its inbox path is not an export left unloaded, nor one moved
    -- to another account's folder this account's export
    where account_handle is not null and not (status = 'quarantined' and is_superseded) and status != 'moved'
),

pulls as (
    -- metric_date: the account-local day the pull ran
    select
        account_handle,
        'api_' || api as export_source,
        coalesce(metric_date, cast(pulled_at as date)) as export_date,
        is_published as is_loaded,
        struct_pack(bytes := pull_id, export_date := cast(null as date)) as export_key
    from {{ ref('stg_tiktok_api__pulls') }}
),

exports as (
    select * from documents
    union all
    select * from pulls
),

accounts as (
    -- the accounts with data of their own: a Backstage creator known only from the downloads (known_from
    -- 'live_backstage') named like the folder they were dropped in leaves it a folder
    select account_handle from {{ ref('dim_accounts') }}
    where known_from = 'account_exports'
),

per_source as (
    select
        account_handle,
        export_source,
        min(export_date) filter (where is_loaded) as first_export_date,
        max(export_date) filter (where is_loaded) as last_export_date,
        count(distinct export_key) filter (where is_loaded) as exports_loaded,
        count(*) filter (where not is_loaded) as exports_not_loaded
    from exports
    group by account_handle, export_source
)

select
    account_handle,
    export_source,
    first_export_date,
    last_export_date,
    exports_loaded,
    exports_not_loaded,
    -- the newest export anywhere, not today: the same inputs must give the same mart
    max(last_export_date) over () as reference_date,
    max(last_export_date) over () - last_export_date as days_behind_reference,
    -- an inbox folder of agency-wide downloads (LIVE Backstage's creator data, e.g. `backstage` at the inbox root),
    -- not an account: a handle with no data of its own in dim_accounts, with LIVE files (not an API account whose
    -- pulls all failed; a stray file quarantined there before its kind was read counts as a Studio one)
    not exists (
        select 1 from accounts
        where accounts.account_handle = per_source.account_handle
    )
    and bool_or(export_source = 'live') over (partition by account_handle) as is_agency_wide_folder
from per_source
