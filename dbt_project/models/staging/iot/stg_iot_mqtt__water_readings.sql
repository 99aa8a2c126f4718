-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Water-quality readings from the live MQTT stream (re-sent messages already removed at
-- landing; impossible readings quarantined).
with source as (
    select * from {{ source('iot_mqtt', 'water_readings') }}
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
    'mqtt' as channel,
    source._run_id as run_id,
    cast(null as varchar) as source_file,
    source.load_date,
    {{ resolve_admin_code(
        'source.commune_code', 'cast(source.observed_at as date)', 'source.district_code'
    ) }} as commune_code
from source
