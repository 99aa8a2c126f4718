-- Examination and treatment facilities (cơ sở khám chữa bệnh) of the registry; the table is
-- re-read whole by every run.
with source as (
    select * from {{ source('ehr_registry', 'facilities') }}
)

select
    facility_code,
    name as facility_name,
    kind as facility_kind,
    old_commune as legacy_commune_code,
    old_district as legacy_district_code,
    new_commune as sent_new_commune_code,
    cashless_since,
    telemedicine as has_telemedicine,
    _run_id as run_id,
    load_date,
    case kind
        when 'hospital' then 'Bệnh viện (hospital)'
        when 'district_centre' then 'Trung tâm Y tế huyện (district health centre)'
        when 'commune_station' then 'Trạm Y tế xã (commune health station)'
        when 'private_clinic' then 'Phòng khám tư nhân (private clinic)'
    end as facility_kind_name
from source
