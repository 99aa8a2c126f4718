-- Telemedicine sessions (phiên khám chữa bệnh từ xa), one row per landed record: a month's file
-- is re-exported as the month fills, so a session can land in several runs.
with source as (
    select * from {{ source('health_telemedicine', 'sessions') }}
)

select
    session_id,
    started_at,
    hub_facility_code,
    spoke_facility_code,
    specialty,
    _run_id as run_id,
    _source_file as source_file,
    load_date,
    cast(duration_minutes as integer) as duration_minutes
from source
