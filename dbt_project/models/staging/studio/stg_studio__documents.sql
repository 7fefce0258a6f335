-- One row per landed export file (document_id), loaded or quarantined.
with source as (
    select * from {{ source('studio', 'documents') }}
),

renamed as (
    select
        -- ids
        cast(document_id as varchar) as document_id,
        cast(account_handle as varchar) as account_handle,
        cast(archive_sha256 as varchar) as archive_sha256,
        -- file identity
        cast(member_name as varchar) as member_name,
        cast(original_name as varchar) as original_name,
        cast(file_kind as varchar) as file_kind,
        -- dates
        cast(export_date as date) as export_date,
        cast(export_date_source as varchar) as export_date_source,
        cast(exported_at as timestamp) as exported_at,
        -- status
        cast(status as varchar) as status,
        cast(row_count as integer) as row_count,
        cast(quarantine_reason as varchar) as quarantine_reason
    from source
)

select
    document_id,
    account_handle,
    file_kind,
    export_date,
    export_date_source,
    exported_at,
    status,
    row_count,
    quarantine_reason,
    archive_sha256,
    member_name,
    original_name
from renamed
-- document_id is the landing key; guard against a re-landed file appearing twice
qualify row_number() over (partition by document_id order by exported_at desc) = 1
