-- Immunisations (tiêm chủng) of children born since 2019, one row per landed record.
with source as (
    select * from {{ source('ehr_registry', 'immunisations') }}
)

select
    person_id as person_key,
    vaccine_code,
    vaccine_name,
    given_on,
    facility_code,
    _run_id as run_id,
    load_date,
    cast(dose as integer) as dose_number
from source
