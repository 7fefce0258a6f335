-- One row per account with a LIVE log: the time zone its LIVE days are counted in, and where it comes from.
{%- set configured_zones = var('live_account_timezones') or {} %}

with live_accounts as (
    select account_handle from {{ ref('stg_live__sessions') }}
    union
    select account_handle from {{ ref('stg_live__events') }}
),

configured as (
    -- dbt var live_account_timezones: {handle: IANA zone}; a former handle names its current account
    {%- for handle, zone in configured_zones.items() %}
        select
            {{ canonical_handle("'" ~ (handle | string | trim | lower | replace("@", "")) ~ "'") }} as account_handle,
            '{{ zone }}' as account_timezone
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- else %}
        select
            cast(null as varchar) as account_handle,
            cast(null as varchar) as account_timezone
        where false
    {%- endfor %}
),

zones_by_account as (
    -- a zone named under a former handle and again under the current one is one zone (two different zones for
    -- one account stay two rows, which this model's unique test refuses)
    select distinct
        account_handle,
        account_timezone
    from configured
),

api_accounts as (
    -- accounts.yml gives every TikTok API account a time zone; each pull records it. Data, not a var: before each
    -- build the same rule is compared with the marts' zones (orchestration/lib/core/dbt_selection.py moved_live_zones)
    select
        account_handle,
        account_timezone
    from {{ ref('stg_tiktok_api__pulls') }}
    where account_timezone is not null
    qualify row_number() over (
        partition by account_handle order by pulled_at desc, pull_id desc
    ) = 1
)

select
    live_accounts.account_handle,
    coalesce(
        zones_by_account.account_timezone,
        api_accounts.account_timezone,
        '{{ var("live_default_timezone") }}'
    ) as account_timezone,
    case
        when zones_by_account.account_timezone is not null then 'live_account_timezones'
        when api_accounts.account_timezone is not null then 'accounts_yml'
        else 'live_default_timezone'
    end as timezone_source
from live_accounts
left join zones_by_account on live_accounts.account_handle = zones_by_account.account_handle
left join api_accounts on live_accounts.account_handle = api_accounts.account_handle
