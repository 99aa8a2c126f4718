-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Crop area per record: area sown and harvested and yield by crop and season, from the national
-- crop production database (TT01) and the provincial platform's crop-area report (DT01), one row
-- per system and record (a re-sent record once, the latest run).
with unioned as (
    {{ union_by_name([
        ref('stg_agri_tt01__crop_area'),
        ref('stg_agri_dt01__crop_area'),
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
    crop,
    season,
    planted_ha,
    harvested_ha,
    yield_t_ha
from unioned
order by system_code asc, record_id asc, run_id desc
