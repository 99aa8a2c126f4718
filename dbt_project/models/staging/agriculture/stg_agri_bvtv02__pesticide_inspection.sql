-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Agriculture system BVTV02 (source agri_bvtv02), table pesticide_inspection:
-- one row per landed record; admin codes as sent plus the current commune they resolve
-- to (old codes through the crosswalk).
with source as (
    select * from {{ source('agri_bvtv02', 'pesticide_inspection') }}
)

select
    'BVTV02' as system_code,
    'pesticide_inspection' as table_name,
    source.record_id,
    source.report_date,
    source.province_code,
    nullif(trim(source.district_code), '') as district_code,
    source.commune_code as sent_commune_code,
    source.commune_name,
    source.inspection_no,
    source.result,
    source.fine_kvnd,
    source._run_id as run_id,
    source.load_date,
    {{ resolve_admin_code('source.commune_code', 'source.report_date', 'source.district_code') }}
        as commune_code
from source
