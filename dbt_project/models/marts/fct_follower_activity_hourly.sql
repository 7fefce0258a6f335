-- One row per account per metric_date per hour: followers active in that hour (null = not yet computed).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_handle', 'metric_date', 'hour'],
        on_schema_change='fail'
    )
}}

select
    account_handle,
    metric_date,
    hour,
    active_followers
from {{ ref('stg_studio__follower_activity') }}
where {{ incremental_window('metric_date') }}
