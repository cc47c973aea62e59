{#-
    Incremental by report month, correct under corrections.

    A mart that grows with history is built month by month. Each run
    rebuilds, whole, every report month whose *inputs* differ from what the
    mart was last built from, and deletes the months whose inputs vanished.
    A month's inputs are the months of the upstream relations it is computed
    from, within a window:

        {%- set month_inputs = [
            {'ref': 'stg_finance__bond_allocations', 'lookback_months': 2},
            {'ref': 'stg_stats__population', 'all_months': true, 'drives_months': false},
        ] %}

    - ref: the upstream model (staging views carry delivery_id and loaded_at).
    - lookback_months: month M also reads months M-1 … M-N of this input
      (is_idle looks at the two months before; default 0, the month only).
    - previous_year: month M also reads every month of the year before
      (a "last year's total" column).
    - all_months: month M reads every month of the input (reference data
      whose year is chosen per month, e.g. population). A change anywhere
      rebuilds everything: yearly data, so once a year.
    - drives_months: whether this input's months are months of the mart
      (default: true unless all_months).
    - fingerprint: the per-row expression that identifies the load a row came
      from; default delivery_id@loaded_at. A mart built from another
      incremental mart uses that mart's input_fingerprint.

    An upstream month's fingerprint is its row count and the set of
    (delivery_id, loaded_at) pairs; the loader replaces a corrected month
    with a new delivery_id and loaded_at, so a correction always changes it.
    A mart month's input_fingerprint is the md5 of the fingerprints of every
    input month in its window; every row of the month stores it. This
    generalises the first version of fct_project_progress_monthly, which
    compared its own rows' (delivery_id, loaded_at) with the upstream's: it
    also covers marts whose month depends on other months (is_idle, last
    year's total) and marts aggregated from several deliveries. Why not a
    "loaded_at > max(loaded_at)" watermark: loaded_at is the loader
    transaction's start, so a load that commits after a later-started one
    would fall behind the watermark and never be built.

    A model uses the macros below:

        {{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code'])) }}
        with
        month_fingerprints as ({{ month_input_fingerprints(month_inputs) }}),
        months_to_build as ({{ months_to_build('month_fingerprints') }}),
        rows_to_build as (
            select upstream.*, months_to_build.input_fingerprint
            from upstream
            {{ join_months_to_build('upstream') }}
        ),
        …  (and select input_fingerprint in the final CTE)

    delete+insert on report_month replaces the rebuilt months; the post-hook
    deletes rows whose (report_month, input_fingerprint) no longer matches
    the inputs: months whose input vanished, and a rebuilt month that now
    yields no rows (delete+insert cannot delete what it does not insert).
-#}


{#- One row per mart month: report_month, input_fingerprint (text, md5). -#}
{% macro month_input_fingerprints(month_inputs) -%}
    {%- set default_fingerprint = "delivery_id::text || '@' || loaded_at::text" %}
    with
    {% for input in month_inputs %}
    {%- set fingerprint = input.get('fingerprint', default_fingerprint) %}
    input_{{ loop.index }}_months as (
        select
            report_month as source_month,
            count(*)::text || ':' || string_agg(
                distinct {{ fingerprint }}, ',' order by {{ fingerprint }}
            ) as source_fingerprint
        from {{ ref(input['ref']) }}
        group by report_month
    ),
    {% endfor %}
    target_months as (
        {%- set drivers = [] %}
        {%- for input in month_inputs %}
            {%- if input.get('drives_months', not input.get('all_months', false)) %}
                {%- do drivers.append(loop.index) %}
            {%- endif %}
        {%- endfor %}
        {%- if drivers | length == 0 %}
            {{ exceptions.raise_compiler_error("month_input_fingerprints: no input drives the months") }}
        {%- endif %}
        {%- for index in drivers %}
        select source_month as report_month from input_{{ index }}_months
        {%- if not loop.last %}
        union
        {%- endif %}
        {%- endfor %}
    ),
    target_months_fingerprinted as (
        select
            target_months.report_month,
            md5(concat_ws(
                '|'
                {%- for input in month_inputs %},
                coalesce((
                    select string_agg(
                        input_months.source_month::text || '=' || input_months.source_fingerprint,
                        ';' order by input_months.source_month
                    )
                    from input_{{ loop.index }}_months as input_months
                    where {{ _month_window(input, 'input_months.source_month', 'target_months.report_month') }}
                ), '')
                {%- endfor %}
            )) as input_fingerprint
        from target_months
    )
    select report_month, input_fingerprint from target_months_fingerprinted
{%- endmacro %}


{#- Whether an input month (source) is in a mart month's (target) window. -#}
{% macro _month_window(input, source, target) -%}
    {%- if input.get('all_months', false) -%}
        true
    {%- else -%}
        (
            ({{ source }} <= {{ target }}
             and {{ source }} >= ({{ target }} - interval '{{ input.get('lookback_months', 0) | int }} months')::date)
            {%- if input.get('previous_year', false) %}
            or extract(year from {{ source }}) = extract(year from {{ target }}) - 1
            {%- endif %}
        )
    {%- endif -%}
{%- endmacro %}


{#- The months to (re)build: all on a full build, else those whose inputs changed. -#}
{% macro months_to_build(month_fingerprints) -%}
    select
        current_months.report_month,
        current_months.input_fingerprint
    from {{ month_fingerprints }} as current_months
    {%- if is_incremental() %}
    {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    {%- if 'input_fingerprint' not in built_columns %}
        {{ exceptions.raise_compiler_error(
            this ~ " has no input_fingerprint column: it was built by an older version of the model."
            ~ " Rebuild it once with `citydw build --full-refresh`"
            ~ " (or `dbt build --full-refresh -s " ~ this.identifier ~ "`).") }}
    {%- endif %}
    where not exists (
        select 1
        from {{ this }} as built
        where
            built.report_month = current_months.report_month
            and built.input_fingerprint = current_months.input_fingerprint
    )
    {%- endif %}
{%- endmacro %}


{#-
    Keeps the upstream rows of the months to build. A full build builds every
    month of the upstream (a left join, which also lets unit tests mock only
    the model's data and leave the fingerprint inputs empty); an incremental
    build only the months whose inputs changed.
-#}
{% macro join_months_to_build(upstream) -%}
    {{ 'inner' if is_incremental() else 'left' }} join months_to_build
        on {{ upstream }}.report_month = months_to_build.report_month
{%- endmacro %}


{#- Post-hook SQL: delete rows built from inputs that are no longer current. -#}
{% macro delete_stale_months(month_inputs) -%}
    delete from {{ this }} as built
    where not exists (
        select 1
        from ({{ month_input_fingerprints(month_inputs) }}) as current_months
        where
            current_months.report_month = built.report_month
            and current_months.input_fingerprint = built.input_fingerprint
    )
{%- endmacro %}


{#-
    The post-hook entry for config(): a template rendered when the hook
    runs (hooks are rendered at run time, with `this` and the refs the model
    declared), so the model states its inputs once.
-#}
{#-
    The model config the macros above rely on, in one place: delete+insert
    by report_month (the months to build replace theirs), the post-hook that
    deletes stale months, a failure rather than a silent change when the
    columns change, and an index on each of ``index_columns`` (one per
    column BI tools filter by).
-#}
{% macro incremental_by_month_config(month_inputs, index_columns=[]) -%}
    {%- set indexes = [] %}
    {%- for column in index_columns %}
        {%- do indexes.append({'columns': [column]}) %}
    {%- endfor %}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'report_month',
        'on_schema_change': 'fail',
        'indexes': indexes,
        'post_hook': [delete_stale_months_hook(month_inputs)],
    }) -}}
{%- endmacro %}


{% macro delete_stale_months_hook(month_inputs) -%}
    {{- return('{{ delete_stale_months(' ~ tojson(month_inputs) ~ ') }}') -}}
{%- endmacro %}
