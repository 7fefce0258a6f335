{#-
    pre_hooks of the LIVE marts keyed by room_id (delete+insert), which delete+insert by key alone leaves wrong: it
    replaces the rooms the new rows hold, never a room (or a room's row) the data no longer produces.
-#}

{#- fct_live_sessions: a room no recording holds any more (its only log quarantined by a damaged sidecar dropped
    later, or re-landed under another room) goes. -#}
{% macro delete_rooms_without_recordings() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where room_id not in (select room_id from {{ ref('stg_live__sessions') }})
    {%- endif -%}
{%- endmacro %}

{#- fct_live_gifts, fct_live_viewers_minutely (after fct_live_sessions): every row of a room this build recomputes
    (ended in the window, as the model selects) or that fct_live_sessions no longer holds goes before the model's
    rows are inserted; a recomputed room with no gift left keeps none. -#}
{% macro delete_rooms_recomputed_or_gone() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where room_id not in (
            select room_id from {{ ref('fct_live_sessions') }}
            where not ({{ incremental_window('cast(ended_at as date)') }})
        )
    {%- endif -%}
{%- endmacro %}
