-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Plant-protection outbreaks per record (pest, crop, infested and treated hectares, severity),
-- from the crop pest surveillance system (BVTV01) and the provincial platform (DT01), one row per
-- system and record (latest run).
with unioned as (
    {{ union_by_name([
        ref('stg_agri_bvtv01__pest_outbreak'),
        ref('stg_agri_dt01__pest_outbreak'),
    ]) }}
)

select distinct on (system_code, record_id)
    system_code,
    record_id,
    report_date,
    {{ month_key("report_date") }} as period,
    commune_code,
    sent_commune_code,
    district_code,
    pest,
    crop,
    severity,
    infested_ha,
    treated_ha
from unioned
order by system_code asc, record_id asc, run_id desc
