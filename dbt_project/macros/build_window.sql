{#-
    The window of the current build: the earliest metric date the new data touched (`build_min_date`), and
    the first date row-level tests look at (`tests_from_date`). dbt var `min_date` (`--vars`) wins; Dagster
    passes both through the environment (TIKTOK_DBT_MIN_DATE, TIKTOK_DBT_TESTS_FROM) because dbt keys its
    parse state on its vars, and a new min_date every day would re-parse the whole project every day.
    Read at run time only (`execute`), so parsing never depends on them. None: no window (everything).
    An incremental model whose own raw tables changed from a later day than the drop's earliest recomputes from
    that day: TIKTOK_DBT_MODEL_MIN_DATES, JSON {model name: day} (lib/core/dbt_selection.py, model_min_dates).
-#}
{% macro build_min_date() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- if var('min_date') -%}{{ return(var('min_date')) }}{%- endif -%}
    {%- set later = fromjson(env_var('TIKTOK_DBT_MODEL_MIN_DATES', '') or '{}') -%}
    {%- if model is defined and model.name in later -%}{{ return(later[model.name]) }}{%- endif -%}
    {{ return(env_var('TIKTOK_DBT_MIN_DATE', '') or none) }}
{%- endmacro %}

{% macro tests_from_date() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {{ return(var('tests_from', none) or env_var('TIKTOK_DBT_TESTS_FROM', '') or none) }}
{%- endmacro %}

{#-
    A singular test's row filter: the rows from tests_from_date() on (those this build wrote), every row
    without one (a whole build), like the generic tests' `__tests_from__`.
-#}
{% macro tests_window(date_column) -%}
    {{ rows_from(date_column, tests_from_date()) }}
{%- endmacro %}

{#- `<date_column> >= <since>` as a boolean expression, `true` without a day (every row). -#}
{% macro rows_from(date_column, since) -%}
    {%- if since -%}
        {{ date_column }} >= cast('{{ since }}' as date)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    dbt's `where` test config, plus a placeholder: `where: "metric_date >= __tests_from__"` tests only the rows
    from tests_from_date() on (the rows this build wrote), and every row when there is no such date. Row-level
    tests use it; a grain test uses it only when its key contains that date (a duplicate key then lies in
    the window too). Same as dbt's own macro otherwise.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__tests_from__' in where -%}
        {%- set since = tests_from_date() -%}
        {%- if not since -%}{{ return(relation) }}{%- endif -%}
        {%- set where = where | replace('__tests_from__', "cast('" ~ since ~ "' as date)") -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#-
    pre_hook of an incremental model that replaces its build window (`incremental_strategy='append'`): on an
    incremental run, delete the rows dated from build_min_date() on (every row without one), which the model
    then recomputes from the whole history. Unlike delete+insert by unique key, a row the new data no longer
    produces (a video gone from an API re-pull of that day) cannot linger.
-#}
{% macro replace_build_window(date_column) -%}
    {%- if is_incremental() -%}
        {%- set min_date = build_min_date() -%}
        delete from {{ this }}
        {%- if min_date %} where {{ date_column }} >= cast('{{ min_date }}' as date){% endif %}
    {%- endif -%}
{%- endmacro %}
