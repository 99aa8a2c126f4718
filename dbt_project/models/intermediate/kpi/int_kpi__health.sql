-- sqlfluff:templater:jinja:load_macros_from_path:macros
{{ config(tags=['kpi_input']) }}
-- Health KPI inputs, on the current commune, the old district (months before July 2025) and
-- province 82 (the ground truth's conventions):
-- YT-01 residents with an EHR created by the month's end / registry residents, by residence;
-- OPS-HEALTH-E-MEDICAL-BOOK, OPS-HEALTH-REMOTE-BOOKING the same with the record's flag set;
-- YT-03 facilities accepting cashless payment by the month's end / facilities, by the
-- facility's commune; OPS-HEALTH-FACILITIES-REPORTING facilities with ≥1 readable XML 130 file
-- dated (NGAYLAP) in the month / facilities; OPS-HEALTH-EPISODES readable distinct episodes by
-- admission month and residence commune (an unknown residence code counts for the province
-- only); OPS-HEALTH-TELEMEDICINE-SESSIONS sessions started in the month by the spoke facility;
-- OPS-HEALTH-BOOKINGS distinct bookings made in the month by the booked facility; DT-06
-- facilities the registry flags as running telemedicine / facilities, province 82 only (the
-- flag is a snapshot without a date: every month carries the latest registry's flag, and the
-- year is its last month's row); DT-05 one pooled share, province 82: the schools with digital
-- management (OPS-SCHOOLS-DIGITAL's province row, int_kpi__education) plus DT-06's facilities
-- over the schools in the term's exports plus the registry's facilities, in the months both
-- sectors have. Counts carry denominator 1. YT-02 has no source (no system records which
-- residents use telemedicine).
with months as (
    select * from {{ ref('int_health__months') }}
),

facilities as (
    select * from {{ ref('dim_facility') }}
),

coverage as (
    select * from {{ ref('fct_ehr_coverage_monthly') }}
),

schools_digital as (
    select
        period,
        numerator,
        denominator
    from {{ ref('int_kpi__education') }}
    where kpi_id = 'OPS-SCHOOLS-DIGITAL' and admin_level = 'province'
),

episodes as (
    select
        {{ month_key("readable.admitted_at") }} as period,
        readable.current_commune_code as commune_code,
        case
            when readable.admitted_at < cast('2025-07-01' as date)
                then legacy.district_code
        end as district_code
    from {{ ref('int_health__episodes_readable') }} as readable
    left join {{ ref('admin_unit_legacy') }} as legacy
        on readable.residence_commune_code = legacy.commune_code
    where readable.admitted_at is not null
),

reporting as (
    select distinct
        facility_code,
        {{ month_key("file_date") }} as period
    from {{ ref('int_health__xml130_files_readable') }}
),

sessions as (
    select
        spoke_facility_code as facility_code,
        period,
        count(*) as sessions
    from {{ ref('fct_telemedicine_session') }}
    group by spoke_facility_code, period
),

bookings as (
    select
        facility_code,
        period,
        count(*) as bookings
    from {{ ref('fct_booking_appointment') }}
    group by facility_code, period
),

facility_months as (
    select
        facilities.facility_code,
        facilities.commune_code,
        facilities.legacy_district_code as district_code,
        months.period,
        cast(
            coalesce(facilities.cashless_since <= months.month_end, false) as integer
        ) as is_cashless,
        cast(reporting.facility_code is not null as integer) as is_reporting,
        cast(coalesce(facilities.has_telemedicine, false) as integer) as is_telemedicine,
        coalesce(sessions.sessions, 0) as sessions,
        coalesce(bookings.bookings, 0) as bookings
    from facilities
    cross join months
    left join reporting
        on
            facilities.facility_code = reporting.facility_code
            and months.period = reporting.period
    left join sessions
        on
            facilities.facility_code = sessions.facility_code
            and months.period = sessions.period
    left join bookings
        on
            facilities.facility_code = bookings.facility_code
            and months.period = bookings.period
),

rows_in as (
    select
        'YT-01' as kpi_id,
        period,
        commune_code,
        legacy_district_code as district_code,
        ehr_persons as numerator,
        residents as denominator
    from coverage
    union all
    select
        'OPS-HEALTH-E-MEDICAL-BOOK' as kpi_id,
        period,
        commune_code,
        legacy_district_code as district_code,
        e_medical_book_persons as numerator,
        residents as denominator
    from coverage
    union all
    select
        'OPS-HEALTH-REMOTE-BOOKING' as kpi_id,
        period,
        commune_code,
        legacy_district_code as district_code,
        remote_booking_persons as numerator,
        residents as denominator
    from coverage
    union all
    select
        'YT-03' as kpi_id,
        period,
        commune_code,
        district_code,
        is_cashless as numerator,
        1 as denominator
    from facility_months
    union all
    select
        'OPS-HEALTH-FACILITIES-REPORTING' as kpi_id,
        period,
        commune_code,
        district_code,
        is_reporting as numerator,
        1 as denominator
    from facility_months
    union all
    select
        'DT-06' as kpi_id,
        period,
        commune_code,
        district_code,
        is_telemedicine as numerator,
        1 as denominator
    from facility_months
    union all
    select
        'OPS-HEALTH-TELEMEDICINE-SESSIONS' as kpi_id,
        period,
        commune_code,
        district_code,
        sessions as numerator,
        0 as denominator
    from facility_months
    union all
    select
        'OPS-HEALTH-BOOKINGS' as kpi_id,
        period,
        commune_code,
        district_code,
        bookings as numerator,
        0 as denominator
    from facility_months
    union all
    select
        'OPS-HEALTH-EPISODES' as kpi_id,
        period,
        commune_code,
        district_code,
        1 as numerator,
        0 as denominator
    from episodes
),

units as (
    select
        kpi_id,
        period,
        'commune' as admin_level,
        commune_code as admin_code,
        '2025' as structure,
        numerator,
        denominator
    from rows_in
    where commune_code is not null and kpi_id != 'DT-06'
    union all
    select
        kpi_id,
        period,
        'district' as admin_level,
        district_code as admin_code,
        'legacy' as structure,
        numerator,
        denominator
    from rows_in
    where district_code is not null and period < '2025-07' and kpi_id != 'DT-06'
    union all
    select
        kpi_id,
        period,
        'province' as admin_level,
        '82' as admin_code,
        '2025' as structure,
        numerator,
        denominator
    from rows_in
),

summed as (
    select
        kpi_id,
        period,
        admin_level,
        admin_code,
        structure,
        cast(sum(numerator) as double precision) as numerator,
        case
            when
                kpi_id in (
                    'OPS-HEALTH-EPISODES',
                    'OPS-HEALTH-TELEMEDICINE-SESSIONS',
                    'OPS-HEALTH-BOOKINGS'
                )
                then 1.0
            else cast(sum(denominator) as double precision)
        end as denominator
    from units
    group by kpi_id, period, admin_level, admin_code, structure
),

pooled as (
    select
        'DT-05' as kpi_id,
        facilities.period,
        facilities.admin_level,
        facilities.admin_code,
        facilities.structure,
        cast(schools.numerator + facilities.numerator as double precision) as numerator,
        cast(schools.denominator + facilities.denominator as double precision) as denominator
    from summed as facilities
    inner join schools_digital as schools
        on facilities.period = schools.period
    where facilities.kpi_id = 'DT-06' and facilities.admin_level = 'province'
),

all_rows as (
    select * from summed
    union all
    select * from pooled
)

select
    kpi_id,
    period,
    admin_level,
    admin_code,
    structure,
    numerator,
    denominator,
    case when denominator > 0 then numerator / denominator end as value  -- noqa: RF04
from all_rows
