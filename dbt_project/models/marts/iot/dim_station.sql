-- The 21 monitoring stations (6 water-quality, 15 light traps) from the station registry, on
-- their current commune, with the old commune and district they were installed in.
select distinct on (station_code)
    station_code,
    station_kind,
    station_name,
    old_commune_code,
    old_district_code,
    commune_code,
    latitude,
    longitude
from {{ ref('stg_iot_csv_backfill__stations') }}
order by station_code asc, run_id desc
