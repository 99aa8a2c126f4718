-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Light-trap nights from the live MQTT stream, unpivoted to one row per trap-night and species
-- (the message carries one column per species). The night is the evening before the 06:00
-- message.
with source as (
    select * from {{ source('iot_mqtt', 'light_trap_counts') }}
),

nights as (
    select
        *,
        cast(observed_at as date) - 1 as night_of
    from source
),

species as (
    select
        message_id,
        'BPH' as species_code,
        bph as insect_count
    from nights
    union all
    select
        message_id,
        'WBPH' as species_code,
        wbph as insect_count
    from nights
    union all
    select
        message_id,
        'GLH' as species_code,
        glh as insect_count
    from nights
    union all
    select
        message_id,
        'RLF' as species_code,
        rlf as insect_count
    from nights
    union all
    select
        message_id,
        'YSB' as species_code,
        ysb as insect_count
    from nights
    union all
    select
        message_id,
        'RBG' as species_code,
        rbg as insect_count
    from nights
)

select
    nights.message_id,
    nights.station_code,
    nights.night_of,
    nights.observed_at,
    nights.province_code,
    nullif(trim(nights.district_code), '') as district_code,
    nights.commune_code as sent_commune_code,
    species.species_code,
    cast(null as varchar) as species_name,
    species.insect_count,
    'mqtt' as channel,
    nights._run_id as run_id,
    cast(null as varchar) as source_file,
    nights.load_date,
    {{ resolve_admin_code('nights.commune_code', 'nights.night_of', 'nights.district_code') }}
        as commune_code
from nights
inner join species on nights.message_id = species.message_id
where species.insect_count is not null
