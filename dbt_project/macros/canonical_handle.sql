{#- The account a received @handle belongs to: the dbt var account_handle_aliases maps a creator's former handles
    to the current one ({former: current}), so that an account keeps one history across a handle change. With no
    alias, the expression itself, unchanged. Handles are compared as the landing writes them (lower case, no @);
    a malformed handle or an alias to another alias is an error, not a silent miss (orchestration/lib/core/
    dbt_vars.py states the same rule for the landing's Content check). -#}
{% macro canonical_handle(expression) -%}
    {%- set aliases = var('account_handle_aliases') or {} -%}
    {%- if not aliases -%}
        {{ expression }}
    {%- else -%}
        {%- set mapping = {} -%}
        {%- for former, current in aliases.items() -%}
            {%- set pair = [] -%}
            {%- for handle in [former, current] -%}
                {%- set normal = (handle | string | trim | lower).lstrip('@') -%}
                {%- if handle is none or handle is boolean or not modules.re.fullmatch('[a-z0-9._]{1,64}', normal) -%}
                    {{ exceptions.raise_compiler_error(
                        "dbt var account_handle_aliases: '" ~ handle ~ "' is not a TikTok @handle"
                    ) }}
                {%- endif -%}
                {%- do pair.append(normal) -%}
            {%- endfor -%}
            {%- do mapping.update({pair[0]: pair[1]}) -%}
        {%- endfor -%}
        {%- for former, current in mapping.items() -%}
            {%- if current in mapping -%}
                {{ exceptions.raise_compiler_error(
                    "dbt var account_handle_aliases: @" ~ former ~ " maps to @" ~ current ~ ", itself a former handle: "
                    ~ "map every former handle to the current one"
                ) }}
            {%- endif -%}
        {%- endfor -%}
        case {{ expression }}
        {%- for former, current in mapping.items() %} when '{{ former }}' then '{{ current }}'{% endfor %}
        else {{ expression }} end
    {%- endif -%}
{%- endmacro %}
