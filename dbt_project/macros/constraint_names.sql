{#-
    Constraint names that read well in a BI tool's schema browser.

    Every mart names its constraints in its contract (`name:`), e.g.
    fct_bond_spending_monthly_pkey. dbt builds a replaced table beside the
    old one (<name>__dbt_tmp) and swaps them, so the new table's named
    primary key would collide with the old table's, which still holds the
    name (a primary key's name is its index's, unique in the schema);
    unnamed, PostgreSQL names it after the temporary table
    (…__dbt_tmp_pkey1). This pre-hook, run when the table is about to be
    replaced (a table model, or an incremental one on a full refresh),
    renames the old table's indexes (its primary key's among them) out of
    the way, inside the build's transaction; the old table is dropped after
    the swap. Foreign key names are per table and never collide.
-#}
{% macro release_constraint_names() -%}
    {%- set materialized = config.get('materialized') %}
    {%- if materialized == 'table' or (materialized == 'incremental' and should_full_refresh()) %}
    do $release$
    declare
        index_row record;
    begin
        -- Every index of the old table: its primary key's (renaming the index
        -- renames the constraint) and the named ones of named_indexes_hook.
        for index_row in
            select index_class.relname
            from pg_index
            inner join pg_class as index_class on index_class.oid = pg_index.indexrelid
            where
                pg_index.indrelid = to_regclass('{{ this }}')
                and index_class.relname not like '%\_\_replaced'
        loop
            execute format(
                'alter index {{ this.schema }}.%I rename to %I',
                index_row.relname,
                left(index_row.relname, 50) || '__replaced'
            );
        end loop;
    end
    $release$
    {%- endif %}
{%- endmacro %}


{#-
    A dimension foreign keys point to: merged into by its key, never
    replaced on an ordinary build. dbt replaces a table by creating the new
    one, swapping and dropping the old with CASCADE, which would drop the
    fact marts' foreign keys; a merge updates rows in place. On a full
    refresh it is replaced and the facts, rebuilt after it, recreate theirs.
-#}
{% macro dimension_config(key) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'merge',
        'unique_key': key,
        'on_schema_change': 'fail',
    }) -}}
{%- endmacro %}


{#-
    Post-hook: PostgreSQL 18 names every NOT NULL constraint, and names it
    after the table it was created in, which for a replaced table is dbt's
    temporary one (…__dbt_tmp_report_month_not_null1). Rename those after
    the swap to <table>_<column>_not_null; not-null names are per table, so
    they cannot collide with the old table's.
-#}
{% macro clean_not_null_constraint_names() -%}
    do $clean$
    declare
        constraint_row record;
    begin
        for constraint_row in
            select pg_constraint.conname, pg_attribute.attname
            from pg_constraint
            inner join pg_attribute
                on
                    pg_attribute.attrelid = pg_constraint.conrelid
                    and pg_attribute.attnum = pg_constraint.conkey[1]
            where
                pg_constraint.conrelid = to_regclass('{{ this }}')
                and pg_constraint.contype = 'n'
                and pg_constraint.conname <> left('{{ this.identifier }}_' || pg_attribute.attname || '_not_null', 63)
        loop
            execute format(
                'alter table {{ this }} rename constraint %I to %I',
                constraint_row.conname,
                left('{{ this.identifier }}_' || constraint_row.attname || '_not_null', 63)
            );
        end loop;
    end
    $clean$
{%- endmacro %}


{#-
    Indexes a person can read in a BI tool's schema browser,
    <table>_<column>_idx, one per column BI tools filter by (dbt's own
    `indexes` config names them by an md5). A post-hook template, so it runs
    after a replaced table's swap; `if not exists` makes it a no-op on an
    incremental build, whose table keeps its indexes.
-#}
{% macro named_indexes_hook(columns) -%}
    {{- return('{{ create_named_indexes(' ~ tojson(columns) ~ ') }}') -}}
{%- endmacro %}


{% macro create_named_indexes(columns) -%}
    {%- for column in columns %}
    create index if not exists {{ adapter.quote(this.identifier ~ '_' ~ column ~ '_idx') }}
        on {{ this }} ({{ adapter.quote(column) }});
    {%- endfor %}
{%- endmacro %}
