{#-
    Fails for every row where the SQL expression is not true (false or
    null). Use for row-level rules; on a column it is the same test (the
    column name is not used, write it in the expression).

        data_tests:
          - expression_is_true:
              arguments:
                expression: "extract(day from report_month) = 1"
-#}
{% test expression_is_true(model, expression, column_name=none) %}

    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)

{% endtest %}
