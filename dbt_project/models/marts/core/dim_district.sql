-- One row per district of the configured city, from the city seeds that the
-- Python readers use too (dbt_project/seeds/city/), so both sides always
-- agree on which districts exist and what clerks call them.
--
-- The fact marts' foreign keys point here, so the table is merged into, not
-- replaced: dbt replaces a table by dropping the old one with CASCADE, which
-- would drop their foreign keys (see docs/architecture.md).

{{ config(**dimension_config('district_code')) }}

with

districts as (

    select * from {{ ref('districts') }}

),

city as (

    select * from {{ ref('city') }}

),

-- Same rule as citydw.city: aliases are '|'-separated, empty entries dropped.
districts_with_alias_arrays as (

    select
        district_code,
        district_name,
        short_name,
        array_remove(string_to_array(coalesce(aliases, ''), '|'), '') as aliases
    from districts

),

-- city.csv holds exactly one row (tested), so every district gets the city.
districts_joined_to_city as (

    select
        districts_with_alias_arrays.district_code,
        districts_with_alias_arrays.district_name,
        districts_with_alias_arrays.short_name,
        districts_with_alias_arrays.aliases,
        city.city_code,
        city.city_name
    from districts_with_alias_arrays
    cross join city

)

select * from districts_joined_to_city
