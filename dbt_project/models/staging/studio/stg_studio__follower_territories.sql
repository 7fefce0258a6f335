-- One row per account per snapshot_date per territory: the follower territory distribution seen that day.
with source as (
    select * from {{ source('studio', 'studio_follower_territories') }}
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
        -- attributes and metrics (territory: ISO 3166 alpha-2 or 'Others')
        cast(territory as varchar) as territory,
        cast(distribution as double) as distribution
    from source
),

newest_export as (
    -- the top-10 list is only consistent within one file: keep all rows of the day's newest export
    -- rather than mixing territories of several exports
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
    territory,
    distribution,
    exported_at,
    document_id,
    source_row
from newest_export
-- guard against a territory repeated inside one file
qualify row_number() over (
    partition by account_handle, snapshot_date, territory
    order by source_row desc
) = 1
