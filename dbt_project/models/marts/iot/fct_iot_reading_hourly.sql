-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Water-quality readings per station and hour: averages, the number of valid readings and
-- threshold flags (salinity above 4 ‰, the figure the Mekong delta's salinity bulletins use for
-- rice; the water level above the alarm level I the province set for the station in the station
-- register, none when it set none; kpis.md §4 threshold alerts).
select
    readings.station_code,
    date_trunc('hour', readings.observed_at) as observed_hour,
    {{ month_key("readings.observed_at") }} as period,
    stations.commune_code,
    count(*) as readings,
    avg(readings.salinity_ppt) as salinity_ppt_avg,
    max(readings.salinity_ppt) as salinity_ppt_max,
    avg(readings.ph) as ph_avg,
    avg(readings.do_mg_l) as do_mg_l_avg,
    avg(readings.temperature_c) as temperature_c_avg,
    avg(readings.water_level_cm) as water_level_cm_avg,
    max(readings.water_level_cm) as water_level_cm_max,
    coalesce(max(readings.salinity_ppt) > 4, false) as is_salinity_alert,
    stations.water_level_alarm_cm,
    coalesce(max(readings.water_level_cm) > stations.water_level_alarm_cm, false)
        as is_water_level_alert
from {{ ref('int_iot__water_readings') }} as readings
left join {{ ref('dim_station') }} as stations
    on readings.station_code = stations.station_code
group by
    readings.station_code,
    date_trunc('hour', readings.observed_at),
    {{ month_key("readings.observed_at") }},
    stations.commune_code,
    stations.water_level_alarm_cm
