-- Residents per old commune as the registry counts them (dân số theo xã, the YT-01
-- denominator); the table is re-read whole by every run.
with source as (
    select * from {{ source('ehr_registry', 'commune_population') }}
)

select
    old_commune as legacy_commune_code,
    old_district as legacy_district_code,
    old_province as legacy_province_code,
    new_commune as sent_new_commune_code,
    _run_id as run_id,
    load_date,
    cast(residents as bigint) as residents
from source
