{#-
    The warehouse's schemas are a contract (raw, staging, intermediate,
    marts), so a configured schema is used as is instead of dbt's default
    "<target schema>_<custom schema>". One warehouse is one database: to try
    changes in isolation, point CITYDW_PG_DBNAME at another database.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
