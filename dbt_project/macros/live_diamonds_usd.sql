{#-
    A money figure for a diamond count: diamonds x var diamond_usd_rate (USD per diamond), as a double.
    TikTok publishes no rate, so the default (null) gives a typed null: no money figure at all rather
    than a guessed one. A rate that is not a number >= 0 stops the build, naming the var.
-#}
{% macro live_diamonds_usd(diamonds) -%}
    {%- set rate = var('diamond_usd_rate') -%}
    {%- if rate is none -%}
        cast(null as double)
    {%- else -%}
        {%- set value = rate | float(-1) -%}
        {%- if value < 0 -%}
            {{ exceptions.raise_compiler_error("dbt var diamond_usd_rate must be a number >= 0 (USD per diamond) or null, got " ~ rate) }}
        {%- endif -%}
        (cast({{ diamonds }} as double) * {{ value }})
    {%- endif -%}
{%- endmacro %}
