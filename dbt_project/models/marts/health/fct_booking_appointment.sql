-- Lịch hẹn khám đặt trực tuyến — one row per booking (the export repeats rows and a month can
-- land again: the latest run wins), located at the booked facility's current commune.
with bookings as (
    select *
    from {{ ref('stg_health_booking__appointments') }}
    qualify row_number() over (
        partition by booking_id
        order by run_id desc, source_file desc
    ) = 1
)

select
    bookings.booking_id,
    bookings.booked_at,
    bookings.person_key,
    bookings.facility_code,
    bookings.appointment_date,
    bookings.channel,
    bookings.status,
    facilities.commune_code,
    facilities.legacy_district_code,
    cast(bookings.booked_at as date) as booking_date,
    strftime(bookings.booked_at, '%Y-%m') as period,
    date_diff('day', cast(bookings.booked_at as date), bookings.appointment_date) as lead_days
from bookings
left join {{ ref('dim_facility') }} as facilities
    on bookings.facility_code = facilities.facility_code
