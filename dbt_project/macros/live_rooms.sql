{#-
    pre_hook of the LIVE marts keyed by room_id (fct_live_sessions, fct_live_gifts, fct_live_viewers_minutely), which
    recompute the LIVEs of int_live_rooms__spans that ended in the build window. delete+insert by key alone replaces
    only the rooms the new rows hold: a LIVE no recording holds any more (its only log quarantined or re-landed
    elsewhere), and a recomputed LIVE's gift the data no longer produces, stayed. Before the model's rows are
    inserted, every row goes except those of the rooms the model keeps: in int_live_rooms__spans (which builds rooms
    from sessions and events alike), ended before the window. So exactly what the model selects is replaced.
-#}
{% macro delete_rooms_recomputed_or_gone() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where room_id not in (
            select room_id from {{ ref('int_live_rooms__spans') }}
            where not ({{ incremental_window('cast(ended_at as date)') }})
        )
    {%- endif -%}
{%- endmacro %}
