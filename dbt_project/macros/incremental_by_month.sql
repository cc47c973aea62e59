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
    - dataset: the registry dataset whose accepted deliveries are the
      input's months (default: from the ref, stg_finance__bond_allocations
      is finance.bond_allocations).
    - built_by_month: the input is itself a mart built by these macros;
      its months' fingerprints are the input fingerprints it records (below),
      so a correction upstream of it reaches this mart too.

    An upstream month is a month the input has rows of, found with one
    index probe per month (a loose index scan on raw's report_month index);
    its fingerprint is read from meta.deliveries, not from the rows: the
    accepted version of the dataset's month (its delivery_id, rows_loaded
    and decided_at). The loader writes a month's raw rows and accepts their
    version in one transaction (replace_partition, then deliveries.accept),
    and it is the only writer of raw, so the accepted row describes the
    rows in raw: a correction is a new delivery_id, a reinstated older
    version a new decided_at, and a month whose rows vanished (even by
    hand) has no rows to find. Counting the staging view's rows per month
    instead read every raw row of every month on every build, per mart
    (about 16M rows at a province's volume over ten years). What it no
    longer sees: rows deleted or changed by hand inside a month that keeps
    some (raw is the loader's alone). The staging views used as inputs are
    plain renames of their raw table (stg_<department>__<name> reads
    raw.<department>__<name>); an input that is not sets 'dataset'.
    A mart month's input_fingerprint is the md5 of the fingerprints of every
    input month in its window. Why not a "loaded_at > max(loaded_at)"
    watermark: loaded_at is the loader transaction's start, so a load that
    commits after a later-started one would fall behind the watermark and
    never be built.

    Where the fingerprints are kept. The marts are what BI reads, so they
    carry no bookkeeping: each mart's built months and the fingerprint each
    was built from live in a companion table in the intermediate schema
    (which citydw_bi cannot read), ``intermediate.<mart>__built_months``
    (report_month primary key, input_fingerprint). In one transaction:

    1. the pre-hook deletes the mart's rows of every month whose current
       fingerprint differs from the recorded one, or that is no longer an
       input month at all (a month that vanished, or was corrected, or whose
       rebuild will yield no rows: delete+insert cannot delete what it does
       not insert, so deleting first is what makes those right);
    2. the model builds the months whose current fingerprint differs from
       the recorded one (every month on a first or full build);
    3. the post-hook records the current fingerprints of every month.

    A model uses the macros below:

        {{ config(**incremental_by_month_config(month_inputs, index_columns=['district_code'])) }}
        with
        month_fingerprints as ({{ month_input_fingerprints(month_inputs) }}),
        months_to_build as ({{ months_to_build('month_fingerprints') }}),
        rows_to_build as (
            select upstream.*
            from upstream
            {{ join_months_to_build('upstream') }}
        ),
        …

    delete+insert on report_month replaces the rebuilt months.
-#}


{#- The companion table recording a mart's built months and their fingerprints. -#}
{% macro built_months_relation(model_name) -%}
    {{- return(api.Relation.create(
        database=target.database,
        schema=generate_schema_name('intermediate', none),
        identifier=model_name ~ '__built_months',
        type='table')) -}}
{%- endmacro %}


{#- One row per mart month: report_month, input_fingerprint (text, md5). -#}
{% macro month_input_fingerprints(month_inputs) -%}
    with recursive
    {% for input in month_inputs %}
    {%- if not input.get('built_by_month', false) %}
    input_{{ loop.index }}_present as (
        (
            select report_month from {{ _input_relation(input) }}
            where report_month is not null
            order by report_month
            limit 1
        )
        union all
        select (
            select later.report_month from {{ _input_relation(input) }} as later
            where later.report_month > present.report_month
            order by later.report_month
            limit 1
        )
        from input_{{ loop.index }}_present as present
        where present.report_month is not null
    ),
    {%- endif %}
    input_{{ loop.index }}_months as (
        {%- if input.get('built_by_month', false) %}
        {#- ref() keeps the lineage; the months come from what the mart recorded. #}
        {%- set upstream = ref(input['ref']) %}
        {%- set recorded = built_months_relation(upstream.identifier) %}
        {%- if execute and adapter.get_relation(recorded.database, recorded.schema, recorded.identifier) is not none %}
        select
            report_month as source_month,
            input_fingerprint as source_fingerprint
        from {{ recorded }}
        {%- else %}
        {#- Not built yet (a unit test's database): no months recorded. #}
        select null::date as source_month, null::text as source_fingerprint where false
        {%- endif %}
        {%- else %}
        {#- Which months have rows: one index probe per month on the raw
            table's report_month index (a loose index scan), not a read of
            every row. What each month holds: its accepted delivery.
            meta.deliveries is a relation, not source(): a unit test mocks
            the model's refs and would refuse a source it was not given. #}
        select
            present.report_month as source_month,
            coalesce(accepted.fingerprint, 'no accepted delivery') as source_fingerprint
        from input_{{ loop.index }}_present as present
        left join (
            select
                report_month,
                rows_loaded::text || ':' || delivery_id::text || '@' || decided_at::text as fingerprint
            from {{ api.Relation.create(database=target.database, schema='meta', identifier='deliveries', type='table') }}
            where dataset = '{{ _input_dataset(input) }}' and status = 'accepted'
        ) as accepted
            on present.report_month = accepted.report_month
        where present.report_month is not null
        {%- endif %}
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


{#-
    The relation an input's months are probed in: a hook's relation, else
    the raw table a staging view renames (stg_education__schools reads
    raw.education__schools), else the ref. The ref is still taken, which
    keeps the lineage. Why raw and not the view: dbt's views are written as
    CTEs, and PostgreSQL never flattens a subquery that has a WITH into the
    query around it, so `order by report_month limit 1` on the view sorts
    every row after the month instead of reading the index's first entry:
    0.26 s a probe on a 100× register of ten years, once per month, per
    input, several times a build.
-#}
{% macro _input_relation(input) -%}
    {%- if 'relation' in input -%}
        {{- input['relation'] -}}
    {%- else -%}
        {%- set upstream = ref(input['ref']) -%}
        {%- set raw_name = _raw_table_of(input['ref']) -%}
        {%- if raw_name -%}
            {{- api.Relation.create(database=target.database, schema='raw', identifier=raw_name, type='table') -}}
        {%- else -%}
            {{- upstream -}}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The raw table a staging view of a raw dataset renames (stg_<department>__<name>: <department>__<name>), else none. -#}
{% macro _raw_table_of(model_name) -%}
    {{- model_name[4:] if model_name.startswith('stg_') and '__' in model_name else '' -}}
{%- endmacro %}


{#- The registry dataset a staging input reads: stg_finance__bond_allocations is finance.bond_allocations. -#}
{% macro _input_dataset(input) -%}
    {%- if 'dataset' in input -%}
        {{ input['dataset'] }}
    {%- elif input.get('ref', '').startswith('stg_') and '__' in input['ref'] -%}
        {{ input['ref'][4:].replace('__', '.') }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("month_input_fingerprints: say which dataset " ~ input.get('ref', input.get('relation')) ~ " reads ('dataset')") }}
    {%- endif -%}
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
    {%- set built_months = built_months_relation(this.identifier) %}
    {%- if execute and adapter.get_relation(built_months.database, built_months.schema, built_months.identifier) is none %}
        {{ exceptions.raise_compiler_error(
            this ~ " was built by an older version of the model (no " ~ built_months ~ ")."
            ~ " Rebuild it once with `citydw build --full-refresh`"
            ~ " (or `dbt build --full-refresh -s " ~ this.identifier ~ "+`).") }}
    {%- endif %}
    where not exists (
        select 1
        from {{ built_months }} as built
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

    Given the model's month_inputs, an incremental build also names those
    months as literals, read when the model is compiled (dbt compiles a model
    right before it runs it; the months are the same query's). A join to
    months_to_build alone cannot reach inside the upstream: the upstream is
    a view written with CTEs (an intermediate union, a staging rename), and
    PostgreSQL never flattens such a subquery into the query around it, so
    it would read every month of every register to keep one (8M rows at a
    province's volume over ten years). A literal list is a restriction it
    pushes down through the views to the raw tables' report_month index.
-#}
{% macro join_months_to_build(upstream, month_inputs=none) -%}
    {{ 'inner' if is_incremental() else 'left' }} join months_to_build
        on {{ upstream }}.report_month = months_to_build.report_month
    {%- if month_inputs is not none and is_incremental() %}
        and {{ months_to_build_literals(upstream ~ '.report_month', month_inputs) }}
    {%- endif %}
{%- endmacro %}


{#- ``column in (<the months to build>)`` on an incremental build, as literal dates; ``true`` otherwise. -#}
{% macro months_to_build_literals(column, month_inputs) -%}
    {%- if execute and is_incremental() %}
        {%- set months_query -%}
            with month_fingerprints as (
                {{ month_input_fingerprints(month_inputs) }}
            )
            select months.report_month::text
            from ({{ months_to_build('month_fingerprints') }}) as months
            order by 1
        {%- endset %}
        {{- month_in(column, run_query(months_query).columns[0].values()) -}}
    {%- else -%}
        true
    {%- endif %}
{%- endmacro %}


{#- ``column in (<months>)`` with the months (ISO text) as literal dates; ``false`` for none. -#}
{% macro month_in(column, months) -%}
    {%- if months | length > 0 -%}
        {{ column }} in ({% for month in months %}'{{ month }}'::date{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}


{#-
    Pre-hook SQL: on an incremental build, delete the rows of every month
    that will be rebuilt or whose inputs vanished, i.e. every month whose
    current fingerprint is not the one recorded.
-#}
{% macro delete_months_to_rebuild(month_inputs) -%}
    {%- if is_incremental() %}
    {%- set built_months = built_months_relation(this.identifier) %}
    {%- if adapter.get_relation(built_months.database, built_months.schema, built_months.identifier) is not none %}
    {#- Every month the mart has rows of was recorded by the build that wrote
        them, so the months to delete are recorded months: found in the
        companion (one row a month) and deleted through the mart's
        report_month index, not by testing every row of the mart. #}
    delete from {{ this }}
    where report_month in (
        select built.report_month
        from {{ built_months }} as built
        where not exists (
            select 1
            from ({{ month_input_fingerprints(month_inputs) }}) as current_months
            where
                current_months.report_month = built.report_month
                and current_months.input_fingerprint = built.input_fingerprint
        )
    )
    {%- endif %}
    {%- endif %}
{%- endmacro %}


{#- Post-hook SQL: record the fingerprint every month is now built from. -#}
{% macro record_built_months(month_inputs, rebuilt_whole=none) -%}
    {%- set rebuilt_whole = (not is_incremental()) if rebuilt_whole is none else rebuilt_whole %}
    {%- set built_months = built_months_relation(this.identifier) %}
    create table if not exists {{ built_months }} (
        report_month      date primary key,
        input_fingerprint text not null,
        built_at          timestamptz not null default now()
    );
    {#- Companions made before built_at existed (an upgrade) gain it. #}
    alter table {{ built_months }} add column if not exists built_at timestamptz not null default now();
    comment on table {{ built_months }} is
        'Bookkeeping of {{ this }} (macros/incremental_by_month.sql): each built report month, the md5 of its inputs it was built from, and when (the data tests of a build read the months built last).';
    {%- if rebuilt_whole %}
    delete from {{ built_months }};
    {%- else %}
    delete from {{ built_months }} as built
    where not exists (
        select 1
        from ({{ month_input_fingerprints(month_inputs) }}) as current_months
        where
            current_months.report_month = built.report_month
            and current_months.input_fingerprint = built.input_fingerprint
    );
    {%- endif %}
    insert into {{ built_months }} (report_month, input_fingerprint, built_at)
    select current_months.report_month, current_months.input_fingerprint, now()
    from ({{ month_input_fingerprints(month_inputs) }}) as current_months
    where not exists (
        select 1 from {{ built_months }} as built where built.report_month = current_months.report_month
    );
{%- endmacro %}


{#-
    The model config the macros above rely on, in one place: delete+insert
    by report_month (the months to build replace theirs), the hooks that
    delete the months to rebuild first and record the fingerprints last, a
    failure rather than a silent change when the columns change, and an
    index on report_month (the delete of rebuilt months, the latest month a
    snapshot or question reads, the months a build's data tests read) and
    on each of ``index_columns`` (one per column BI tools filter by).
    Hooks are templates rendered when they run (with `this` and the refs the
    model declared), so the model states its inputs once.
-#}
{% macro incremental_by_month_config(month_inputs, index_columns=[]) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'report_month',
        'on_schema_change': 'fail',
        'pre_hook': ['{{ delete_months_to_rebuild(' ~ tojson(month_inputs) ~ ') }}'],
        'post_hook': [
            '{{ record_built_months(' ~ tojson(month_inputs) ~ ') }}',
            named_indexes_hook(['report_month'] + index_columns),
        ],
    }) -}}
{%- endmacro %}


{#-
    Post-hook of a view whose data tests should read only the months that
    changed since the last build (macros/where_subquery.sql): the staging
    views of raw datasets and the intermediate views that union them. A view
    is built whole on every build, but its rows of a month only change with
    its inputs' deliveries, so the same bookkeeping as a mart's tells which
    months changed: recorded in intermediate.<view>__built_months, every
    month again on a --full-refresh. ``month_inputs`` as for
    incremental_by_month; a staging view passes none and is its own input,
    the dataset its name says (stg_drc__major_projects: drc.major_projects).
-#}
{% macro record_tested_months(month_inputs=none) -%}
    {%- if month_inputs is none %}
        {%- set raw_name = _raw_table_of(this.identifier) %}
        {%- if not raw_name %}{{ return('') }}{% endif %}
        {%- set raw_table = adapter.get_relation(this.database, 'raw', raw_name) %}
        {%- if raw_table is none %}{{ return('') }}{% endif %}
        {%- set month_inputs = [{'relation': raw_table, 'dataset': raw_name.replace('__', '.')}] %}
    {%- endif %}
    {{ record_built_months(month_inputs, rebuilt_whole=flags.FULL_REFRESH) }}
{%- endmacro %}
