-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Agriculture system NTM01 (source agri_ntm01), table ncd_criteria:
-- one row per landed record; admin codes as sent plus the current commune they resolve
-- to (old codes through the crosswalk).
with source as (
    select * from {{ source('agri_ntm01', 'ncd_criteria') }}
)

select
    'NTM01' as system_code,
    'ncd_criteria' as table_name,
    source.record_id,
    source.report_date,
    source.province_code,
    nullif(trim(source.district_code), '') as district_code,
    source.commune_code as sent_commune_code,
    source.commune_name,
    source.criteria_met,
    source.status,
    source._run_id as run_id,
    source.load_date,
    {{ resolve_admin_code('source.commune_code', 'source.report_date', 'source.district_code') }}
        as commune_code
from source
