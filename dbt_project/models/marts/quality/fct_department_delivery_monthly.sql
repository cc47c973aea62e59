{#-
    One row per dataset per report month the dataset is scheduled for: when
    its delivery was due, when (and whether) it came, how many versions, and
    what became of it. The delivery ledger behind "which departments
    delivered late, wrong, or not at all, month by month".

    Dates are the city's local dates. "Today" (as_of_date) is the build's
    local date, or the var citydw_as_of_date (YYYY-MM-DD) when given, so a
    rebuild for an audit or a unit test is reproducible.
-#}

{%- set as_of_override = var('citydw_as_of_date', none) %}

with

delivery_schedule as (

    select * from {{ ref('stg_meta__delivery_schedule') }}

),

deliveries as (

    select * from {{ ref('stg_meta__deliveries') }}

),

working_days as (

    select * from {{ ref('stg_meta__working_days') }}

),

waivers as (

    select * from {{ ref('stg_meta__waivers') }}

),

validation_results as (

    select * from {{ ref('stg_meta__validation_results') }}

),

correction_cases as (

    select * from {{ ref('stg_meta__correction_cases') }}

),

city as (

    select * from {{ ref('city') }}

),

today as (

    select
        {% if as_of_override -%}
            '{{ as_of_override }}'::date
        {%- else -%}
            (now() at time zone city.timezone)::date
        {%- endif %} as as_of_date,
        city.timezone
    from city

),

deliveries_dated as (

    select
        deliveries.*,
        (deliveries.received_at at time zone today.timezone)::date as received_date
    from deliveries
    cross join today

),

blocking_failures_per_version as (

    select
        deliveries_dated.delivery_id,
        count(validation_results.result_id) filter (
            where validation_results.severity = 'blocking' and not validation_results.is_success
        ) as failed_blocking_rules,
        count(validation_results.result_id) filter (
            where validation_results.severity = 'warning' and not validation_results.is_success
        ) as failed_warnings,
        count(validation_results.result_id) as evaluated_rules
    from deliveries_dated
    left join validation_results
        on deliveries_dated.delivery_id = validation_results.delivery_id
    group by deliveries_dated.delivery_id

),

-- A version rejected before any rule could run (unreadable, empty file)
-- counts as one blocking failure.
versions_assessed as (

    select
        deliveries_dated.*,
        case
            when
                deliveries_dated.status = 'rejected'
                and blocking_failures_per_version.evaluated_rules = 0
                then 1
            else blocking_failures_per_version.failed_blocking_rules
        end as blocking_failures,
        blocking_failures_per_version.failed_warnings
    from deliveries_dated
    inner join blocking_failures_per_version
        on deliveries_dated.delivery_id = blocking_failures_per_version.delivery_id

),

versions_summarised as (

    select
        dataset,
        report_month,
        count(*) as versions_received,
        min(received_at) filter (where version = 1) as first_received_at,
        min(received_date) filter (where version = 1) as first_received_date,
        max(version) as latest_version,
        sum(blocking_failures) as blocking_failures
    from versions_assessed
    group by dataset, report_month

),

accepted_versions as (

    select * from versions_assessed
    where status = 'accepted'

),

-- The version that speaks for the month: the accepted one, else the latest.
current_versions as (

    select distinct on (dataset, report_month)
        dataset,
        report_month,
        version,
        status,
        status_reason,
        failed_warnings
    from versions_assessed
    order by dataset, report_month, (status = 'accepted') desc, version desc

),

active_waivers as (

    select * from waivers
    where is_active

),

open_cases as (

    select
        dataset,
        report_month,
        count(*) as open_correction_cases
    from correction_cases
    where is_open
    group by dataset, report_month

),

schedule_joined as (

    select
        delivery_schedule.report_month,
        delivery_schedule.department,
        delivery_schedule.department_name,
        delivery_schedule.dataset,
        delivery_schedule.dataset_title,
        delivery_schedule.due_date,
        today.as_of_date,
        versions_summarised.first_received_at,
        versions_summarised.first_received_date,
        coalesce(versions_summarised.versions_received, 0) as versions_received,
        coalesce(versions_summarised.blocking_failures, 0) as blocking_failures,
        accepted_versions.version as accepted_version,
        accepted_versions.decided_at as accepted_at,
        accepted_versions.rows_received,
        accepted_versions.rows_loaded,
        accepted_versions.rows_quarantined,
        current_versions.status as current_version_status,
        current_versions.status_reason as current_version_reason,
        coalesce(current_versions.failed_warnings, 0) as warnings,
        active_waivers.waiver_reason,
        active_waivers.waived_by,
        active_waivers.waived_at,
        coalesce(open_cases.open_correction_cases, 0) as open_correction_cases
    from delivery_schedule
    cross join today
    left join versions_summarised
        on
            delivery_schedule.dataset = versions_summarised.dataset
            and delivery_schedule.report_month = versions_summarised.report_month
    left join accepted_versions
        on
            delivery_schedule.dataset = accepted_versions.dataset
            and delivery_schedule.report_month = accepted_versions.report_month
    left join current_versions
        on
            delivery_schedule.dataset = current_versions.dataset
            and delivery_schedule.report_month = current_versions.report_month
    left join active_waivers
        on
            delivery_schedule.dataset = active_waivers.dataset
            and delivery_schedule.report_month = active_waivers.report_month
    left join open_cases
        on
            delivery_schedule.dataset = open_cases.dataset
            and delivery_schedule.report_month = open_cases.report_month

),

-- Working days after the due date up to the first version's arrival, or,
-- while nothing has come, up to today.
lateness_counted as (

    select
        schedule_joined.dataset,
        schedule_joined.report_month,
        count(working_days.calendar_date) as working_days_late
    from schedule_joined
    left join working_days
        on
            working_days.is_working_day
            and working_days.calendar_date > schedule_joined.due_date
            and working_days.calendar_date
            <= coalesce(schedule_joined.first_received_date, schedule_joined.as_of_date)
    group by schedule_joined.dataset, schedule_joined.report_month

),

statuses_assigned as (

    select
        schedule_joined.*,
        lateness_counted.working_days_late,
        schedule_joined.versions_received = 0
        and schedule_joined.due_date < schedule_joined.as_of_date as is_missing,
        coalesce(schedule_joined.first_received_date > schedule_joined.due_date, false) as is_late,
        schedule_joined.waiver_reason is not null as is_waived,
        case
            when schedule_joined.accepted_version = 1 then 'accepted'
            when schedule_joined.accepted_version > 1 then 'corrected'
            when schedule_joined.waiver_reason is not null then 'waived'
            when schedule_joined.current_version_status = 'rejected' then 'rejected'
            when schedule_joined.versions_received > 0 then 'received'
            when schedule_joined.due_date < schedule_joined.as_of_date then 'missing'
            else 'pending'
        end as status
    from schedule_joined
    inner join lateness_counted
        on
            schedule_joined.dataset = lateness_counted.dataset
            and schedule_joined.report_month = lateness_counted.report_month

),

final as (

    select
        report_month,
        department,
        dataset,
        due_date,
        first_received_at as received_at,
        is_missing,
        is_late,
        working_days_late::integer as working_days_late,
        versions_received::integer as versions_received,
        status,
        case status
            when 'accepted' then '已受理'
            when 'corrected' then '已更正'
            when 'waived' then '已豁免'
            when 'rejected' then '被退回'
            when 'received' then '已收到待处理'
            when 'missing' then '未报送'
            when 'pending' then '未到期'
        end as status_name,
        rows_received,
        rows_loaded,
        rows_quarantined,
        blocking_failures::integer as blocking_failures,
        warnings::integer as warnings,
        department_name,
        dataset_title,
        accepted_version,
        accepted_at,
        case when status = 'rejected' then current_version_reason end as rejection_reason,
        is_waived,
        waiver_reason,
        waived_by,
        waived_at,
        open_correction_cases::integer as open_correction_cases,
        status in ('accepted', 'corrected', 'waived') as is_closed,
        as_of_date
    from statuses_assigned

)

{{ contract_typed_select('final') }}
