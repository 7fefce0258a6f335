{#- The parts of a document id (core/archive.py document_id_for): `<sha256>:<12 hex of the inbox path's sha256>:<member>`.
    The receipt prefix is its first part up to the second colon. -#}
{% macro receipt_prefix_length() -%}
    {{ 64 + 1 + 12 + 1 }}
{%- endmacro %}

{#- The receipt a document was read from, as its id starts: stg_studio__receipts.receipt_prefix. -#}
{% macro receipt_prefix_of(document_id) -%}
    left({{ document_id }}, {{ receipt_prefix_length() }})
{%- endmacro %}

{#- The bytes a document was read from, wherever they were received: `<sha256>:<member>`. -#}
{% macro document_bytes_of(document_id) -%}
    left({{ document_id }}, 64) || substr({{ document_id }}, {{ receipt_prefix_length() }})
{%- endmacro %}
