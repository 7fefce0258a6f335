-- One row per plausibility flag of a landed Studio or LIVE row (the row itself is in its raw table).
with flags as (
    select * from {{ source('studio', 'row_flags') }}
),

documents as (
    select * from {{ source('studio', 'documents') }}
),

renamed as (
    select
        -- ids
        cast(flags.document_id as varchar) as document_id,
        {{ canonical_handle("cast(documents.account_handle as varchar)") }} as account_handle,
        cast(documents.file_kind as varchar) as file_kind,
        -- where
        cast(flags.file as varchar) as file_name,
        cast(flags.source_row as integer) as source_row,
        cast(flags.column_name as varchar) as column_name,
        -- what
        cast(flags.rule as varchar) as rule_name,
        cast(flags.value as varchar) as flagged_value,
        cast(flags.severity as varchar) as severity,
        cast(flags.message as varchar) as message,
        cast(flags.landed_at as timestamp) as landed_at
    from flags
    inner join documents on flags.document_id = documents.document_id
)

select
    document_id,
    account_handle,
    file_kind,
    file_name,
    source_row,
    column_name,
    rule_name,
    flagged_value,
    severity,
    message,
    landed_at
from renamed
