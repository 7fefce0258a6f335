{#-
    Grain test: no two rows share the same values of combination_of_columns.
    Usage:  data_tests: [{unique_combination: {arguments: {combination_of_columns: [a, b]}}}]
-#}
{% test unique_combination(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
