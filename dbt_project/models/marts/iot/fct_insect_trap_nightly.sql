-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Light-trap catches per trap and night, per species, with the brown-planthopper alert flag
-- (more than 3,000 in one trap-night: an immigration peak calling for a field check).
select
    nights.message_id,
    nights.station_code,
    nights.night_of,
    {{ month_key("nights.night_of") }} as period,
    stations.commune_code,
    nights.bph_count,
    nights.wbph_count,
    nights.glh_count,
    nights.rlf_count,
    nights.ysb_count,
    nights.rbg_count,
    nights.bph_count is not null as is_valid_night,
    coalesce(nights.bph_count > 3000, false) as is_bph_alert
from {{ ref('int_iot__trap_nights') }} as nights
left join {{ ref('dim_station') }} as stations
    on nights.station_code = stations.station_code
