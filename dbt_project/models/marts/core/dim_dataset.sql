-- One row per dataset of the registry (drc.major_projects …), with its
-- template's Chinese title and its department: from the datasets seed that
-- `python -m citydw.docs` generates from registry/.

{{ config(**dimension_config('dataset')) }}

with

datasets as (

    select * from {{ ref('datasets') }}

),

departments as (

    select * from {{ ref('departments') }}

),

final as (

    select
        datasets.dataset,
        datasets.dataset_title,
        datasets.department,
        departments.department_name,
        datasets.frequency
    from datasets
    left join departments
        on datasets.department = departments.department

)

{{ contract_typed_select('final') }}
