{#- The receipt a document was read from, as its id starts (core/archive.py document_id_for:
    `<sha256>:<12 hex of the inbox path's sha256>:<member>`): stg_studio__receipts.receipt_prefix. -#}
{% macro receipt_prefix_of(document_id) -%}
    left({{ document_id }}, {{ 64 + 1 + 12 + 1 }})
{%- endmacro %}
