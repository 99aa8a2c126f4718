-- The 21 monitoring stations (6 water-quality, 15 light traps) from the station registry, on
-- their current commune, with the old commune and district they were installed in.
select
    station_code,
    station_kind,
    station_name,
    old_commune_code,
    old_district_code,
    commune_code,
    latitude,
    longitude
from {{ ref('stg_iot_csv_backfill__stations') }}
qualify row_number() over (partition by station_code order by run_id desc) = 1
