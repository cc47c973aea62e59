{#-
    A dimension of the latest state of each key (dim_facility: each
    facility as the latest register that lists it describes it), kept
    without reading every month on every build.

    Rebuilt whole, such a table reads every row of every month of its
    inputs: at a province's volume over ten years, millions of rows sorted
    per build (dim_facility took 356 s there). But a month's build usually
    only adds the newest month, and then the new state of a key is known
    from that month alone: its row of the newest month, its last reported
    month the newest, its first the one already recorded (or the newest).

    The inputs' months and fingerprints are kept as an incremental_by_month
    mart keeps them (intermediate.<model>__built_months, the same macros),
    and each build picks one of three modes (latest_state_mode):

    - none: no input month changed: nothing is rewritten;
    - append: every changed month is new and later than every month built
      before: the keys of the new months are rebuilt from those months and
      the rows already there (delete+insert on the key), and a post-hook
      sets the "in the latest register" flag of every key again;
    - whole: anything else (a correction or removal of a month already
      built, a first build, a --full-refresh, or a table built before
      this macro): every row is deleted and rebuilt from every month, as
      before.

    What append cannot see, as for the incremental marts: a change of the
    seeds a row's labels come from (districts, departments, the facility
    type mapping) needs `citydw build --full-refresh`.
-#}

{#- 'none', 'append' or 'whole'; see above. -#}
{% macro latest_state_mode(month_inputs) -%}
    {#- A unit test has no relation of its own: whole, from the rows it gives. #}
    {%- if not execute or this is none or not is_incremental() %}{{ return('whole') }}{% endif %}
    {%- set built_months = built_months_relation(this.identifier) %}
    {%- if adapter.get_relation(built_months.database, built_months.schema, built_months.identifier) is none %}
        {{- return('whole') -}}
    {%- endif %}
    {%- set query %}
        with
        current_months as ({{ month_input_fingerprints(month_inputs) }}),
        changed_months as (
            select current_months.report_month, built.report_month is not null as was_built
            from current_months
            left join {{ built_months }} as built
                on current_months.report_month = built.report_month
            where built.input_fingerprint is distinct from current_months.input_fingerprint
            union all
            select built.report_month, true
            from {{ built_months }} as built
            where not exists (
                select 1 from current_months where current_months.report_month = built.report_month
            )
        )
        select
            count(*) as changed,
            coalesce(bool_or(was_built), false) as rewrites_a_built_month,
            coalesce(min(report_month) > (select max(report_month) from {{ built_months }}), true) as all_later
        from changed_months
    {%- endset %}
    {%- set row = run_query(query).rows[0] %}
    {%- if row[0] == 0 %}
        {{- return('none') -}}
    {%- elif not row[1] and row[2] %}
        {{- return('append') -}}
    {%- endif %}
    {{- return('whole') -}}
{%- endmacro %}


{#-
    The new months an append reads, as literal dates: a filter the planner
    pushes into every branch of a union view and onto raw's report_month
    index, where a join to the fingerprints (estimated blindly) read every
    month of every register.
-#}
{% macro latest_state_new_months(month_inputs) -%}
    {%- set built_months = built_months_relation(this.identifier) %}
    {%- set query %}
        with current_months as ({{ month_input_fingerprints(month_inputs) }})
        select current_months.report_month::text
        from current_months
        left join {{ built_months }} as built
            on current_months.report_month = built.report_month
        where built.input_fingerprint is distinct from current_months.input_fingerprint
        order by 1
    {%- endset %}
    {%- set months = run_query(query).columns[0].values() | list %}
    {%- if months | length == 0 %}
        {{- return('null::date') -}}
    {%- endif %}
    {%- set literals = [] %}
    {%- for month in months %}
        {%- do literals.append("'" ~ month ~ "'::date") %}
    {%- endfor %}
    {{- return(literals | join(', ')) -}}
{%- endmacro %}


{#- Pre-hook: a whole rebuild of an existing table starts from no rows (delete+insert only replaces keys it inserts). -#}
{% macro delete_latest_state_if_whole(month_inputs) -%}
    {%- if this is not none and is_incremental() and latest_state_mode(month_inputs) == 'whole' %}
    delete from {{ this }}
    {%- endif %}
{%- endmacro %}


{#-
    The model config: delete+insert on the key, the hooks above and the
    bookkeeping of incremental_by_month (recorded after every build), the
    model's own post-hooks (e.g. a flag that depends on every row), and an
    index on each of ``index_columns``.
-#}
{% macro latest_state_config(month_inputs, unique_key, index_columns=[], post_hooks=[]) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'fail',
        'pre_hook': ['{{ delete_latest_state_if_whole(' ~ tojson(month_inputs) ~ ') }}'],
        'post_hook': post_hooks + [
            '{{ record_built_months(' ~ tojson(month_inputs) ~ ') }}',
            named_indexes_hook(index_columns),
        ],
    }) -}}
{%- endmacro %}


{#-
    Post-hook SQL: a flag "this key is in the latest month" (its last month
    is the latest of all keys, of its ``partition_by`` if given) depends on
    every row, and an append only wrote the new months' keys: set it again
    where it changed.
-#}
{% macro refresh_latest_flag(flag_column, last_month_column, partition_by=none) -%}
    update {{ this }} as keyed
    set {{ flag_column }} = keyed.{{ last_month_column }} = latest.latest_month
    from (
        select
            {%- if partition_by %} {{ partition_by }},{% endif %}
            max({{ last_month_column }}) as latest_month
        from {{ this }}
        {%- if partition_by %}
        group by {{ partition_by }}
        {%- endif %}
    ) as latest
    where
        keyed.{{ flag_column }} is distinct from (keyed.{{ last_month_column }} = latest.latest_month)
        {%- if partition_by %}
        and keyed.{{ partition_by }} = latest.{{ partition_by }}
        {%- endif %}
{%- endmacro %}
