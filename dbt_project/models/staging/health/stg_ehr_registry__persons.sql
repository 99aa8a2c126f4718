-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Persons with an electronic health record (người có hồ sơ sức khỏe điện tử), one row per landed
-- record: the incremental cursor on last_updated re-reads a record each time it is updated, so a
-- person can appear in several runs (int_health__ehr_persons_latest keeps the latest).
with source as (
    select * from {{ source('ehr_registry', 'persons') }}
)

select
    person_id as person_key,
    citizen_id as citizen_id_key,
    full_name as full_name_key,
    residence_old_province as residence_old_province_code,
    residence_old_district as residence_old_district_code,
    residence_old_commune as residence_old_commune_code,
    residence_new_commune as residence_new_commune_code,
    created_on,
    last_updated,
    has_e_medical_book,
    uses_remote_booking,
    _run_id as run_id,
    load_date,
    cast(sex as integer) as sex_code,
    {{ cast_or_null('birth_date', 'integer') }} as birth_year
from source
