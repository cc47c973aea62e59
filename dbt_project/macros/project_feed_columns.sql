{#-
    The columns of a project feed on the DRC's template (drc.major_projects,
    transport.transport_projects, water.water_projects), renamed to the marts'
    vocabulary. The three staging models share the template, so they share
    this list: a field added to the template is renamed once, for all three.
-#}
{% macro project_feed_columns() -%}
        report_month,
        project_code,
        project_name,
        category,
        district as district_code,
        responsible_unit,
        status,
        total_investment as total_investment_wan,
        annual_plan_investment as annual_plan_investment_wan,
        month_investment as month_investment_wan,
        ytd_investment as ytd_investment_wan,
        planned_start_date,
        actual_start_date,
        planned_completion_date,
        progress_note,
        blocker_type,
        blocker_note,
        is_bond_funded,
        delivery_id,
        source_row,
        loaded_at
{%- endmacro %}
