-- One row per received file still quarantined (document_id): what the run summary counts as "Quarantined files
-- now", with where each was dropped and why, so that a file that did not load is seen where people look (the
-- report, BI), with or without an account. Gone once a corrected file lands at its inbox path, the same bytes
-- load from another one, or, for a ZIP inside a ZIP, its bytes land as a file of their own
-- (stg_studio__documents.is_superseded).
with quarantined as (
    select
        document_id,
        account_handle,
        file_kind,
        original_name,
        member_name,
        quarantine_reason
    from {{ ref('stg_studio__documents') }}
    where status = 'quarantined' and not is_superseded
),

receipts as (
    select
        receipt_prefix,
        inbox_path,
        received_at
    from {{ ref('stg_studio__receipts') }}
)

select
    quarantined.document_id,
    -- a document of a receipt older than the archive manifest's inbox paths: its file name
    coalesce(receipts.inbox_path, quarantined.original_name) as inbox_path,
    -- the entry of a ZIP that failed; null for a file received as itself, or a ZIP refused whole (member '')
    nullif(nullif(quarantined.member_name, ''), quarantined.original_name) as zip_member,
    quarantined.account_handle,
    quarantined.file_kind,
    quarantined.quarantine_reason,
    receipts.received_at
from quarantined
left join receipts
    on {{ receipt_prefix_of('quarantined.document_id') }} = receipts.receipt_prefix
