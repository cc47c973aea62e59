-- One row per department of the registry, with its Chinese name: from the
-- departments seed that `python -m citydw.docs` generates from registry/.
-- Merged into, not replaced: foreign keys point here.

{{ config(**dimension_config('department')) }}

with

departments as (

    select * from {{ ref('departments') }}

),

final as (

    select
        department,
        department_name,
        department_name_en
    from departments

)

{{ contract_typed_select('final') }}
