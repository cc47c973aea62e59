-- The warehouse serves one configured city: seeds/city/city.csv must hold
-- exactly one row, or dim_district would repeat every district per city.

with

city as (

    select * from {{ ref('city') }}

),

city_rows_counted as (

    select count(*) as city_rows
    from city

)

select city_rows
from city_rows_counted
where city_rows <> 1
