-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- The station registry (stations.csv): 6 water-quality stations and 15 light traps, with the
-- old commune and district they were installed in, their current commune and, for a water
-- station, the alarm level I the province set for it (null: not set, never judged).
with source as (
    select * from {{ source('iot_csv_backfill', 'stations') }}
)

select
    source.station_code,
    source.kind as station_kind,
    source.name as station_name,
    nullif(trim(source.old_commune_code), '') as old_commune_code,
    nullif(trim(source.old_district_code), '') as old_district_code,
    source.new_commune_code as sent_new_commune_code,
    source.latitude,
    source.longitude,
    source.water_level_alarm_cm,
    source._run_id as run_id,
    source.load_date,
    coalesce(
        {{ resolve_admin_code('source.new_commune_code', 'current_date') }},
        {{ resolve_admin_code('source.old_commune_code', "cast('2025-06-30' as date)") }}
    ) as commune_code
from source
