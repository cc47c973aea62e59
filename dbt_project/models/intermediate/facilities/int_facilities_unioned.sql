-- One row per facility per report month across the four facility registers
-- (schools and kindergartens, primary care, elderly care, public car parks),
-- in one shape: the register's own type word, capacity in the register's
-- unit (places, beds or spaces). The parking ledger has no type column; its
-- rows get the type word 公共停车场 that facility_type_mapping maps.


{#- The months that changed since the last build, for the data tests (macros/where_subquery.sql). #}
{{ config(post_hook=["{{ record_tested_months([{'ref': 'stg_education__schools'}, {'ref': 'stg_health__clinics'}, {'ref': 'stg_civil_affairs__elderly_care'}, {'ref': 'stg_urban_mgmt__parking_lots'}]) }}"]) }}

with

schools as (

    select * from {{ ref('stg_education__schools') }}

),

clinics as (

    select * from {{ ref('stg_health__clinics') }}

),

elderly_care as (

    select * from {{ ref('stg_civil_affairs__elderly_care') }}

),

parking_lots as (

    select * from {{ ref('stg_urban_mgmt__parking_lots') }}

),

facilities_unioned as (

    {#- (dataset, CTE, how the register writes a column where it differs). -#}
    {%- set registers = [
        ('education.schools', 'schools', {}),
        ('health.clinics', 'clinics', {'is_inclusive': 'null::boolean'}),
        ('civil_affairs.elderly_care', 'elderly_care', {'is_inclusive': 'null::boolean'}),
        ('urban_mgmt.parking_lots', 'parking_lots', {
            'facility_id': 'lot_id',
            'facility_name': 'lot_name',
            'register_type': "'公共停车场'::text",
            'capacity': 'spaces',
            'is_inclusive': 'null::boolean',
        }),
    ] %}
    {%- set columns = [
        'facility_id',
        'facility_name',
        'register_type',
        'district_code',
        'street',
        'lng',
        'lat',
        'capacity',
        'status',
        'plan_year',
        'start_date',
        'open_date',
        'is_inclusive',
        'delivery_id',
        'loaded_at',
    ] %}
    {%- for dataset, register, written_as in registers %}
    select
        report_month,
        '{{ dataset }}'::text as source_dataset,
        '{{ dataset.split('.')[0] }}'::text as source_department,
        {%- for column in columns %}
        {{ written_as.get(column, column) }}{{ ' as ' ~ column if column in written_as }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ register }}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

)

select * from facilities_unioned
