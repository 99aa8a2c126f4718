-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Lịch hẹn khám đặt trực tuyến — one row per booking (the export repeats rows and a month can
-- land again: the latest run wins), located at the booked facility's current commune.
with bookings as (
    {{ latest_per_key(
        ref('stg_health_booking__appointments'), ['booking_id'], 'run_id desc, source_file desc'
    ) }}
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
    {{ month_key("bookings.booked_at") }} as period,
    {{ dbt.datediff(
        'cast(bookings.booked_at as date)', 'bookings.appointment_date', 'day'
    ) }} as lead_days
from bookings
left join {{ ref('dim_facility') }} as facilities
    on bookings.facility_code = facilities.facility_code
