{#-
    One row per group (e.g. pull and video) whose shares sum above `at_most`: TikTok rounds its
    percentages, so a sum a little over 1 is normal and one far over is worth a look, never a reason
    to drop the rows (a plausibility rule, see README "Severity"; use with severity warn).
    `at_most` mirrors schemas/api_contracts.py: 1 + SHARE_SUM_TOLERANCE.
-#}
{% test shares_sum_to_at_most(model, column_name, group_by, at_most=1.05) %}

select
    {{ group_by | join(', ') }},
    sum({{ column_name }}) as share_sum
from {{ model }}
group by {{ group_by | join(', ') }}
having sum({{ column_name }}) > {{ at_most }}

{% endtest %}
