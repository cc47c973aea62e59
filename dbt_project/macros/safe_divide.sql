{#-
    numerator ÷ denominator as numeric, null when the denominator is null or
    0 (a rate of an empty plan is unknown, not infinite). trim_scale drops
    the trailing zeros of PostgreSQL's numeric division, so a rate of a
    quarter reads 0.25 in BI tools, not 0.25000000000000000000.
-#}
{% macro safe_divide(numerator, denominator) -%}
    trim_scale(({{ numerator }})::numeric / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}
