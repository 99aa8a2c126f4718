-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Agriculture system TL01 (source agri_tl01), table pumping_station:
-- one row per landed record; admin codes as sent plus the current commune they resolve
-- to (old codes through the crosswalk).
with source as (
    select * from {{ source('agri_tl01', 'pumping_station') }}
)

select
    'TL01' as system_code,
    'pumping_station' as table_name,
    source.record_id,
    source.report_date,
    source.province_code,
    nullif(trim(source.district_code), '') as district_code,
    source.commune_code as sent_commune_code,
    source.commune_name,
    source.station_code,
    source.pumps_running,
    source.hours,
    source._run_id as run_id,
    source.load_date,
    {{ resolve_admin_code('source.commune_code', 'source.report_date', 'source.district_code') }}
        as commune_code
from source
