-- One row per endpoint pull of a TikTok API (pull_id), whether it was loaded or not.
with source as (
    select * from {{ source('tiktok_api', 'api_pulls') }}
),

renamed as (
    select
        -- ids
        cast(pull_id as varchar) as pull_id,
        {{ canonical_handle("lower(cast(account_handle as varchar))") }} as account_handle,
        cast(api as varchar) as api,
        cast(endpoint as varchar) as endpoint,
        cast(purpose as varchar) as purpose,
        -- dates and times
        cast(metric_date as date) as metric_date,
        cast(requested_start_date as date) as requested_start_date,
        cast(requested_end_date as date) as requested_end_date,
        cast(timezone as varchar) as account_timezone,
        cast(pulled_at as timestamp) as pulled_at,
        cast(finished_at as timestamp) as finished_at,
        -- outcome
        cast(status as varchar) as status,
        cast(status in ('complete', 'unchanged') as boolean) as is_published,
        cast(pages as integer) as pages,
        cast(http_requests as integer) as http_requests,
        cast(rows_loaded as integer) as rows_loaded,
        cast(videos_listed as integer) as videos_listed,
        cast(videos_expected as integer) as videos_expected,
        cast(reason as varchar) as reason,
        cast(archive_path as varchar) as archive_path
    from source
)

select * from renamed
