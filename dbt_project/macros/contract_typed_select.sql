{#-
    The model's last select: its final CTE's columns, each cast to the type
    its contract declares, in the contract's order.

    A mart's numbers carry the precision their unit says (万元 numeric(18,2),
    rates numeric(12,4), percentage points numeric(12,2): see
    docs/contracts.md). Casting here, once, rounds them where they are
    computed, so an incremental build's new rows have exactly the table's
    column types (on_schema_change: fail compares them) and a downstream
    model reads what BI reads.
-#}
{% macro contract_typed_select(final_cte) -%}
    {%- set columns = model.columns.values() | list if model is defined and model.columns else [] %}
    {%- if columns | length == 0 %}
    select * from {{ final_cte }}
    {%- else %}
    select
        {%- for column in columns %}
        {{ final_cte }}.{{ adapter.quote(column.name) if column.quote else column.name }}::{{ column.data_type }}
            as {{ column.name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ final_cte }}
    {%- endif %}
{%- endmacro %}
