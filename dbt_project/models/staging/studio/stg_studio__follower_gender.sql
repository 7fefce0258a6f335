-- One row per account per snapshot_date per gender: the follower gender distribution seen that day.
with source as (
    select * from {{ source('studio', 'studio_follower_gender') }}
),

renamed as (
    select
        -- ids and lineage
        {{ canonical_handle("cast(account_handle as varchar)") }} as account_handle,
        cast(document_id as varchar) as document_id,
        cast(source_row as integer) as source_row,
        -- dates: the file has no date column, it is a snapshot taken at export time
        cast(export_date as date) as snapshot_date,
        cast(exported_at as timestamp) as exported_at,
        -- attributes and metrics
        cast(gender as varchar) as gender,
        cast(distribution as double) as distribution
    from source
),

newest_export as (
    -- a distribution is only consistent within one file: keep all rows of the day's newest export
    -- rather than mixing rows of several exports
    select *
    from renamed
    qualify dense_rank() over (
        partition by account_handle, snapshot_date
        order by exported_at desc, document_id desc
    ) = 1
)

select
    account_handle,
    snapshot_date,
    gender,
    distribution,
    exported_at,
    document_id,
    source_row
from newest_export
-- guard against a label repeated inside one file
qualify row_number() over (
    partition by account_handle, snapshot_date, gender
    order by source_row desc
) = 1
