-- Remote booking appointments (lịch hẹn khám đặt trực tuyến), one row per landed record: the
-- export sometimes repeats a row, and a month's file can land again.
with source as (
    select * from {{ source('health_booking', 'appointments') }}
)

select
    booking_id,
    booked_at,
    person_id as person_key,
    facility_code,
    appointment_date,
    channel,
    status,
    _run_id as run_id,
    _source_file as source_file,
    load_date
from source
