-- Crop area per record: area sown and harvested and yield by crop and season, from the national
-- crop production database (TT01) and the provincial platform's crop-area report (DT01), one row
-- per system and record (a re-sent record once, the latest run).
with unioned as (
    select * from {{ ref('stg_agri_tt01__crop_area') }}
    union all by name
    select * from {{ ref('stg_agri_dt01__crop_area') }}
)

select
    system_code,
    record_id,
    report_date,
    strftime(report_date, '%Y-%m') as period,
    commune_code,
    sent_commune_code,
    district_code,
    crop,
    season,
    planted_ha,
    harvested_ha,
    yield_t_ha
from unioned
qualify row_number() over (partition by system_code, record_id order by run_id desc) = 1
