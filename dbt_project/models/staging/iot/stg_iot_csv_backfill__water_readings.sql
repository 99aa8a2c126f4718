-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Water-quality readings from the stations' daily CSV dumps (the record of reference); rows with
-- an impossible value were quarantined at landing. Admin codes as sent, plus the current
-- commune they resolve to.
with source as (
    select * from {{ source('iot_csv_backfill', 'water_readings') }}
)

select
    source.message_id,
    source.station_code,
    source.observed_at,
    source.province_code,
    nullif(trim(source.district_code), '') as district_code,
    source.commune_code as sent_commune_code,
    source.salinity_ppt,
    source.ph,
    source.do_mg_l,
    source.temperature_c,
    source.water_level_cm,
    'csv' as channel,
    source._run_id as run_id,
    source._source_file as source_file,
    source.load_date,
    {{ resolve_admin_code(
        'source.commune_code', 'cast(source.observed_at as date)', 'source.district_code'
    ) }} as commune_code
from source
