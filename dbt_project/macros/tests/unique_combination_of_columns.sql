{#-
    Fails for every combination of the given columns that occurs more than
    once: the grain test of a model whose key spans several columns.
    Written here because `dbt deps` cannot download dbt_utils offline.

        data_tests:
          - unique_combination_of_columns:
              arguments:
                combination_of_columns: [report_month, project_code]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    {%- set column_list = combination_of_columns | join(', ') %}

    select
        {{ column_list }},
        count(*) as occurrences
    from {{ model }}
    group by {{ column_list }}
    having count(*) > 1

{% endtest %}
