-- Plant-protection outbreaks per record (pest, crop, infested and treated hectares, severity),
-- from the crop pest surveillance system (BVTV01) and the provincial platform (DT01), one row per
-- system and record (latest run).
with unioned as (
    select * from {{ ref('stg_agri_bvtv01__pest_outbreak') }}
    union all by name
    select * from {{ ref('stg_agri_dt01__pest_outbreak') }}
)

select
    system_code,
    record_id,
    report_date,
    strftime(report_date, '%Y-%m') as period,
    commune_code,
    sent_commune_code,
    district_code,
    pest,
    crop,
    severity,
    infested_ha,
    treated_ha
from unioned
qualify row_number() over (partition by system_code, record_id order by run_id desc) = 1
