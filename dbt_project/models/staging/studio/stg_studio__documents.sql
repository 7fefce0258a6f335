-- One row per landed export file (document_id), loaded, quarantined or moved to another account's folder.
with source as (
    select * from {{ source('studio', 'documents') }}
),

superseded_receipts as (
    -- a receipt another one replaced: other bytes received later at the same inbox path (a corrected file
    -- dropped over it)
    select receipt_prefix
    from {{ ref('stg_studio__receipts') }}
    qualify
        received_at < max(received_at) over (partition by inbox_path)
        and count(distinct sha256) over (partition by inbox_path) > 1
),

loaded_bytes as (
    -- the bytes of each loaded document (`<sha256>:<member>` of its id): the same bytes quarantined at another inbox
    -- path were moved where they belong (a misfiled download, one without an account). Only the loaded documents
    -- of an archive object some document is quarantined from: building the whole history's set of bytes on every
    -- read cost most of the view at 300 accounts x 90 days (188,524 documents: its count 0.24 -> 0.06 s, every
    -- column 0.14 -> 0.10 s), for a handful of matches.
    select distinct {{ document_bytes_of('document_id') }} as document_bytes
    from source
    where
        status = 'loaded'
        and left(document_id, 64) in (
            select left(quarantined.document_id, 64) from source as quarantined
            where quarantined.status = 'quarantined'
        )
),

unzipped_bytes as (
    -- the bytes of a ZIP inside a ZIP (inner_zip_sha256 of its quarantined entry) received and landed since as a
    -- file of their own: the outer ZIP was unzipped and what it held dropped, as the entry's reason says. Only
    -- those hashes, as in loaded_bytes: `in (select archive_sha256 from source)` would hash the whole history's
    -- objects on every read of the view
    select distinct archive_sha256
    from source
    where archive_sha256 in (
        select inner_zip.inner_zip_sha256 from source as inner_zip
        where inner_zip.inner_zip_sha256 is not null
    )
),

renamed as (
    select
        -- ids
        cast(document_id as varchar) as document_id,
        {{ canonical_handle("cast(account_handle as varchar)") }} as account_handle,
        cast(archive_sha256 as varchar) as archive_sha256,
        -- file identity
        cast(member_name as varchar) as member_name,
        cast(original_name as varchar) as original_name,
        cast(file_kind as varchar) as file_kind,
        -- LIVE Backstage's creator data covers every creator of an agency (each row names its creator): the
        -- folder it was dropped in is where it came from, not an account it describes
        coalesce(file_kind = 'live_backstage', false) as is_agency_wide,
        -- dates
        cast(export_date as date) as export_date,
        cast(export_date_source as varchar) as export_date_source,
        cast(exported_at as timestamp) as exported_at,
        -- status
        cast(status as varchar) as status,
        cast(row_count as integer) as row_count,
        cast(quarantine_reason as varchar) as quarantine_reason,
        {{ receipt_prefix_of('document_id') }} in (select superseded_receipts.receipt_prefix from superseded_receipts)
        or (
            status = 'quarantined'
            and {{ document_bytes_of('document_id') }} in (select loaded_bytes.document_bytes from loaded_bytes)
        )
        or (
            -- (null for every other file: `null in (...)` is null, and would make the whole `or` null)
            status = 'quarantined' and inner_zip_sha256 is not null
            and inner_zip_sha256 in (select unzipped_bytes.archive_sha256 from unzipped_bytes)
        ) as is_superseded
    from source
)

select
    document_id,
    account_handle,
    file_kind,
    is_agency_wide,
    export_date,
    export_date_source,
    exported_at,
    status,
    row_count,
    quarantine_reason,
    is_superseded,
    archive_sha256,
    member_name,
    original_name
from renamed
-- One row per document_id without a deduplication: it is raw.documents' primary key (since the first landing's
-- schema), and the grain test here would say so loudly. The `row_number()` that guarded it sorted the whole
-- history's ids on every read of the view (dim_accounts, rpt_account_freshness, rpt_quarantined_files, its tests):
-- at 300 x 90 (190,568 documents) a count of the view 171 -> 63 ms.
