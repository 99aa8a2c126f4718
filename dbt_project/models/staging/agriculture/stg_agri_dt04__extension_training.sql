-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Agriculture system DT04 (source agri_dt04), table extension_training:
-- one row per landed record; admin codes as sent plus the current commune they resolve
-- to (old codes through the crosswalk).
with source as (
    select * from {{ source('agri_dt04', 'extension_training') }}
)

select
    'DT04' as system_code,
    'extension_training' as table_name,
    source.record_id,
    source.report_date,
    source.province_code,
    nullif(trim(source.district_code), '') as district_code,
    source.commune_code as sent_commune_code,
    source.commune_name,
    source.course,
    source.participants,
    source._run_id as run_id,
    source.load_date,
    {{ resolve_admin_code('source.commune_code', 'source.report_date', 'source.district_code') }}
        as commune_code
from source
