{#-
    The row filter of an incremental mart, as a boolean expression for a `where` clause.

    On an incremental run with a build window (`build_min_date()`: var `min_date`, or the earliest metric date
    the newest drop touched as Dagster passes it), only rows with date_column >= that date are recomputed;
    delete+insert then replaces them by unique key. Without it, or on a first build / --full-refresh, it is
    `true`: everything is recomputed.
    Apply it to the OUTPUT rows only, after any window function that must still see older history.
-#}
{% macro incremental_window(date_column) -%}
    {{ rows_from(date_column, build_min_date() if is_incremental() else none) }}
{%- endmacro %}
