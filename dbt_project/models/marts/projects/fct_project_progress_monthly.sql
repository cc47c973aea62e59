{#-
    One row per project per report month: status, investment against the
    annual plan, start dates and what blocks the project.

    Incremental by month. A run rebuilds, whole, every report month whose
    upstream rows differ from what the mart last built for it: a new month,
    a corrected month (the loader replaced its rows: new delivery_id, new
    loaded_at), a month that gained or lost rows. The comparison is per
    month, on the set of (delivery_id, loaded_at) pairs and the row count,
    rather than "loaded_at > max(loaded_at) in the mart": loaded_at is the
    loader transaction's start time, so a load that commits after a later-
    started one would fall behind a global watermark and never be built.
    Months that vanished upstream are deleted by the post-hook.

    Columns: on_schema_change is 'fail', because a new column filled only
    for rebuilt months would mislead; after changing the columns run
    `dbt build --full-refresh -s fct_project_progress_monthly` (seconds).

    Indexes: the primary key (report_month, project_code), declared in the
    YAML, is already the index on report_month; district_code gets its own.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='report_month',
        on_schema_change='fail',
        indexes=[
            {'columns': ['district_code']},
        ],
        post_hook=[
            "delete from {{ this }} as built
             where not exists (
                 select 1 from {{ ref('int_projects_unioned') }} as upstream
                 where upstream.report_month = built.report_month
             )",
        ],
    )
}}

{%- set load_fingerprint -%}
    string_agg(
        distinct delivery_id::text || '@' || loaded_at::text, ','
        order by delivery_id::text || '@' || loaded_at::text
    )
{%- endset %}

with

projects as (

    select * from {{ ref('int_projects_unioned') }}

),

{% if is_incremental() %}

months_built as (

    select
        report_month,
        count(*) as row_count,
        {{ load_fingerprint }} as load_fingerprint
    from {{ this }}
    group by report_month

),

months_upstream as (

    select
        report_month,
        count(*) as row_count,
        {{ load_fingerprint }} as load_fingerprint
    from projects
    group by report_month

),

months_changed as (

    select months_upstream.report_month
    from months_upstream
    left join months_built
        on months_upstream.report_month = months_built.report_month
    where
        months_built.report_month is null
        or months_upstream.row_count <> months_built.row_count
        or months_upstream.load_fingerprint <> months_built.load_fingerprint

),

projects_to_build as (

    select projects.*
    from projects
    inner join months_changed
        on projects.report_month = months_changed.report_month

),

{% else %}

projects_to_build as (

    select * from projects

),

{% endif %}

progress_measured as (

    select
        *,
        {{ safe_divide('ytd_investment_wan', 'annual_plan_investment_wan') }}
            as annual_completion_rate,
        coalesce(status in ('新开工', '在建', '竣工'), false)
        or actual_start_date is not null as is_started,
        (report_month + interval '1 month' - interval '1 day')::date as report_month_end_date
    from projects_to_build

),

starts_assessed as (

    select
        *,
        not is_started
        and coalesce(planned_start_date <= report_month_end_date, false) as is_start_overdue
    from progress_measured

),

final as (

    select
        report_month,
        project_code,
        project_name,
        source_department,
        district_code,
        category,
        status,
        total_investment_wan,
        annual_plan_investment_wan,
        month_investment_wan,
        ytd_investment_wan,
        annual_completion_rate,
        planned_start_date,
        actual_start_date,
        is_started,
        is_start_overdue,
        blocker_type,
        is_bond_funded,
        responsible_unit,
        planned_completion_date,
        blocker_note,
        progress_note,
        delivery_id,
        loaded_at
    from starts_assessed

)

select * from final
