-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One row per light-trap night (message_id) with the catch per species as columns, from the
-- CSV backfill and the MQTT stream (de-duplicated per message and species: CSV first, then the
-- latest run). bph_count is null when the brown-planthopper count was quarantined (a sensor
-- fault): such a night is not a valid observation.
with unioned as (
    {{ union_by_name([
        ref('stg_iot_csv_backfill__light_trap_counts'),
        ref('stg_iot_mqtt__light_trap_counts'),
    ]) }}
),

species as (
    select distinct on (message_id, species_code) *
    from unioned
    order by
        message_id asc,
        species_code asc,
        case channel when 'csv' then 0 else 1 end asc,
        run_id desc,
        source_file desc
)

select
    message_id,
    station_code,
    night_of,
    min(observed_at) as observed_at,
    min(sent_commune_code) as sent_commune_code,
    min(commune_code) as commune_code,
    max(case when species_code = 'BPH' then insect_count end) as bph_count,
    max(case when species_code = 'WBPH' then insect_count end) as wbph_count,
    max(case when species_code = 'GLH' then insect_count end) as glh_count,
    max(case when species_code = 'RLF' then insect_count end) as rlf_count,
    max(case when species_code = 'YSB' then insect_count end) as ysb_count,
    max(case when species_code = 'RBG' then insect_count end) as rbg_count
from species
group by message_id, station_code, night_of
