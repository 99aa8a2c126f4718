{{ config(tags=['kpi_input']) }}
-- IoT KPI inputs per station and month, added up to the station's commune (current code),
-- its old district (months before July 2025) and province 82:
-- OPS-IOT-STATIONS-REPORTING stations with ≥1 valid reading in the month / stations (all 21,
-- every month the stations report for); OPS-IOT-SALINITY-ALERTS station-hours with a valid
-- salinity reading above 4 ‰ / station-hours with a valid reading; OPS-INSECT-DENSITY-ALERTS
-- trap-nights with more than 3,000 brown planthoppers / valid trap-nights.
with stations as (
    select * from {{ ref('dim_station') }}
),

salinity as (
    select
        station_code,
        period,
        cast(sum(cast(is_salinity_alert as integer)) as double precision) as numerator,
        cast(count(*) as double precision) as denominator
    from {{ ref('fct_iot_reading_hourly') }}
    group by station_code, period
),

insects as (
    select
        station_code,
        period,
        cast(sum(cast(is_bph_alert as integer)) as double precision) as numerator,
        cast(count(*) as double precision) as denominator
    from {{ ref('fct_insect_trap_nightly') }}
    where is_valid_night
    group by station_code, period
),

active as (
    select distinct
        station_code,
        period
    from salinity
    union
    select distinct
        station_code,
        period
    from insects
),

months as (
    select distinct period from active
),

reporting as (
    select
        stations.station_code,
        months.period,
        case when active.station_code is not null then 1.0 else 0.0 end as numerator,
        1.0 as denominator
    from stations
    cross join months
    left join active
        on
            stations.station_code = active.station_code
            and months.period = active.period
),

per_station as (
    select
        'OPS-IOT-SALINITY-ALERTS' as kpi_id,
        *
    from salinity
    union all
    select
        'OPS-INSECT-DENSITY-ALERTS' as kpi_id,
        *
    from insects
    union all
    select
        'OPS-IOT-STATIONS-REPORTING' as kpi_id,
        *
    from reporting
),

units as (
    select
        per_station.kpi_id,
        per_station.period,
        'commune' as admin_level,
        stations.commune_code as admin_code,
        '2025' as structure,
        per_station.numerator,
        per_station.denominator
    from per_station
    inner join stations on per_station.station_code = stations.station_code
    union all
    select
        per_station.kpi_id,
        per_station.period,
        'district' as admin_level,
        stations.old_district_code as admin_code,
        'legacy' as structure,
        per_station.numerator,
        per_station.denominator
    from per_station
    inner join stations on per_station.station_code = stations.station_code
    where per_station.period < '2025-07'
    union all
    select
        per_station.kpi_id,
        per_station.period,
        'province' as admin_level,
        '82' as admin_code,
        '2025' as structure,
        per_station.numerator,
        per_station.denominator
    from per_station
    inner join stations on per_station.station_code = stations.station_code
)

select
    kpi_id,
    period,
    admin_level,
    admin_code,
    structure,
    sum(numerator) as numerator,
    sum(denominator) as denominator,
    case
        when sum(denominator) > 0 then sum(numerator) / sum(denominator)
    end as value  -- noqa: RF04
from units
group by kpi_id, period, admin_level, admin_code, structure
