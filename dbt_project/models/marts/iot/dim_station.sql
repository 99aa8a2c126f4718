-- The 21 monitoring stations (6 water-quality, 15 light traps) from the station registry, on
-- their current commune, with the old commune and district they were installed in and a water
-- station's alarm level I (the threshold of the iot_water_level_breach alerts).
select distinct on (station_code)
    station_code,
    station_kind,
    station_name,
    old_commune_code,
    old_district_code,
    commune_code,
    latitude,
    longitude,
    water_level_alarm_cm
from {{ ref('stg_iot_csv_backfill__stations') }}
order by station_code asc, run_id desc
