{#-
    The row filter of an incremental mart, as a boolean expression for a `where` clause.

    On an incremental run with var `min_date` set (the earliest metric date the newest drop touched),
    only rows with date_column >= min_date are recomputed; delete+insert then replaces them by unique
    key. Without min_date, or on a first build / --full-refresh, it is `true`: everything is recomputed.
    Apply it to the OUTPUT rows only, after any window function that must still see older history.
-#}
{% macro incremental_window(date_column) -%}
    {%- if is_incremental() and var('min_date') -%}
        {{ date_column }} >= cast('{{ var('min_date') }}' as date)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
