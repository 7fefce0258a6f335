{#-
    One row per day from start_date to end_date, both inclusive, as a subquery.
    The bounds may be columns of an outer query: use it in a `cross join lateral` to build a
    per-account spine, e.g.
        from bounds cross join lateral {{ date_spine('bounds.first_date', 'bounds.last_date') }} as spine
-#}
{% macro date_spine(start_date, end_date, column_name='date_day') -%}
    (
        select cast(generate_series as date) as {{ column_name }}
        from generate_series(
            cast({{ start_date }} as timestamp),
            cast({{ end_date }} as timestamp),
            interval 1 day
        )
    )
{%- endmacro %}
