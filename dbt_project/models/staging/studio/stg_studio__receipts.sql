-- One row per receipt (receipt_prefix): bytes received at one place in the inbox, and when.
select
    -- how the id of every document read from these bytes at this path starts (core/archive.py
    -- document_id_for): `<sha256>:<12 hex of the inbox path's sha256>:`
    sha256 || ':' || left(sha256(inbox_path), 12) || ':' as receipt_prefix,
    cast(sha256 as varchar) as sha256,
    cast(inbox_path as varchar) as inbox_path,
    cast(original_name as varchar) as original_name,
    cast(received_at as timestamp) as received_at
from {{ source('studio', 'archive_manifest') }}
