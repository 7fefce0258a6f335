{#- This project's `table` and `view`: one `create or replace` in a transaction instead of dbt-duckdb's swap
    (create `__dbt_tmp`, rename the old one to `__dbt_backup`, rename, commit, drop the backup): 3 statements a
    node instead of 8, each paying dbt's own overhead per query; 13-15 % of the CPU of a whole build. DuckDB
    replaces at commit, and a failed statement rolls back to the old relation, as the swap did. What the swap
    also handles and this project does not use (constraints, contracts, grants, indexes, docs persisted to
    the database, a sql_header, DuckLake's partitioned_by / sorted_by) is refused by name rather than silently
    dropped; Python models are refused by dbt itself (no supported_languages declared: SQL only). -#}
{% macro replace_relation_in_place(relation_type) %}
  {%- for option in ['grants', 'indexes', 'sql_header', 'partitioned_by', 'sorted_by'] -%}
    {%- if config.get(option) -%}
      {{ exceptions.raise_compiler_error(option ~ " is not supported by this project's " ~ relation_type
         ~ " materialization (macros/materializations/replace_in_place.sql): use dbt-duckdb's by removing it") }}
    {%- endif -%}
  {%- endfor -%}
  {%- if config.get('contract').enforced or config.persist_relation_docs()
         or config.persist_column_docs() or model.get('constraints') -%}
    {{ exceptions.raise_compiler_error("contracts, constraints and persisted docs are not supported by this"
       ~ " project's " ~ relation_type ~ " materialization (macros/materializations/replace_in_place.sql)") }}
  {%- endif -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type=relation_type) -%}
  {#- what a run of dbt-duckdb's swap left when it died half-way (looked up in the cache: no query) -#}
  {{ drop_relation_if_exists(load_cached_relation(make_intermediate_relation(target_relation))) }}
  {{ drop_relation_if_exists(load_cached_relation(make_backup_relation(target_relation, relation_type))) }}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {%- if existing_relation is not none and existing_relation.type != relation_type %}
    {#- in the transaction of the create (drop_relation_if_exists commits on its own): if the create fails,
        the rollback brings the old relation back -#}
    {% call statement('drop_other_type', auto_begin=True) -%}
      {{ get_drop_sql(existing_relation) }}
    {%- endcall %}
    {% do adapter.cache_dropped(existing_relation) %}
  {%- endif %}
  {% call statement('main') -%}
    create or replace {{ relation_type }} {{ target_relation }} as (
      {{ sql }}
    )
  {%- endcall %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmacro %}

{% materialization table, adapter='duckdb' %}
  {{ return(replace_relation_in_place('table')) }}
{% endmaterialization %}

{% materialization view, adapter='duckdb' %}
  {{ return(replace_relation_in_place('view')) }}
{% endmaterialization %}
