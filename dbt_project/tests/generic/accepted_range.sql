{#-
    Fails for every non-null value outside [min_value, max_value] (bounds inclusive, either optional).
    Nulls pass: combine with not_null where a value is required.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

select {{ column_name }}
from {{ model }}
where
    {%- if min_value is none and max_value is none %} false
    {%- else %}
        {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
        {%- if min_value is not none and max_value is not none %} or{% endif %}
        {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}
    {%- endif %}

{% endtest %}
