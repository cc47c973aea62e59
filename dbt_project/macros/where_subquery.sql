{#-
    The data tests of a mart built by month (macros/incremental_by_month.sql),
    and of the staging and intermediate views that record their months
    (record_tested_months), read only the months its last build changed,
    not every month: the months whose companion row
    (intermediate.<model>__built_months) has the latest built_at. A month's rows only change when it is rebuilt,
    and a rebuilt month is tested in the build that rebuilt it, so the others
    were tested by the builds that wrote them; at a province's volume over
    ten years a test of every month reads millions of rows per test and
    build. A full refresh rebuilds, and so tests, every month; so does
    `--vars '{test_all_months: true}'`.

    What a test of the changed months cannot see: a duplicate across months
    of a key that does not include report_month. The marts' keys include it.

    Overrides dbt's get_where_subquery (global_project
    macros/materializations/tests/where_subquery.sql), which generic tests
    call on the model they test; a test's own `where:` still applies.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') %}
    {%- set built_months = none %}
    {%- if execute and not var('test_all_months', false) and relation.identifier is defined and relation.identifier %}
        {%- set companion = built_months_relation(relation.identifier) %}
        {%- set built_months = adapter.get_relation(companion.database, companion.schema, companion.identifier) %}
        {#- A dimension of the latest state (macros/latest_state.sql) keeps
            months too, but has one row per key, not per month: tested whole. #}
        {%- if built_months is not none
            and 'report_month' not in adapter.get_columns_in_relation(relation) | map(attribute='name') | list %}
            {%- set built_months = none %}
        {%- endif %}
    {%- endif %}
    {%- if built_months is not none %}
        {#- The months as literals, read when the test runs (dbt compiles a
            test right before it runs it, after its model's build): a
            subquery would be a semi-join that PostgreSQL cannot push into a
            view written with CTEs (it never flattens one), so every row of
            every month would be read; a literal list reaches the raw
            table's report_month index. #}
        {%- set months_query -%}
            select report_month::text from {{ built_months }}
            where built_at = (select max(built_at) from {{ built_months }})
            order by report_month
        {%- endset -%}
        {%- set months = run_query(months_query).columns[0].values() %}
        {%- set filtered -%}
            (select * from {{ relation }}
             where {{ month_in('report_month', months) }}
             {%- if where %} and ({{ where }}){% endif %}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) %}
    {%- elif where %}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') %}
    {%- else %}
        {%- do return(relation) %}
    {%- endif %}
{%- endmacro %}
