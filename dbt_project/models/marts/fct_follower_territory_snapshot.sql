-- One row per account per snapshot_date per territory: the follower territory distribution seen that day.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_handle', 'snapshot_date'],
        on_schema_change='fail'
    )
}}
{#- unique_key is the whole snapshot of a day: a newer export replaces all of that day's rows. -#}

select
    account_handle,
    snapshot_date,
    territory,
    distribution
from {{ ref('stg_studio__follower_territories') }}
where {{ incremental_window('snapshot_date') }}
