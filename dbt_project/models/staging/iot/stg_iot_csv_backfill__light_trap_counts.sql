-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Light-trap nightly catches from the daily CSV dumps: one row per trap-night and species (a
-- negative count was quarantined at landing, so that species row is missing).
with source as (
    select * from {{ source('iot_csv_backfill', 'light_trap_counts') }}
)

select
    source.message_id,
    source.station_code,
    cast(source.night_of as date) as night_of,
    source.observed_at,
    source.province_code,
    nullif(trim(source.district_code), '') as district_code,
    source.commune_code as sent_commune_code,
    source.species_code,
    source.species_name,
    source.count as insect_count,
    'csv' as channel,
    source._run_id as run_id,
    source._source_file as source_file,
    source.load_date,
    {{ resolve_admin_code(
        'source.commune_code', 'cast(source.night_of as date)', 'source.district_code'
    ) }} as commune_code
from source
