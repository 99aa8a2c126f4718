-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Livestock headcount per record by species, from the national livestock database (CN01), the
-- provincial platform (DT01) and the commune veterinary logbook (DT09), one row per system and
-- record (latest run).
with unioned as (
    {{ union_by_name([
        ref('stg_agri_cn01__livestock_census'),
        ref('stg_agri_dt01__livestock_census'),
        ref('stg_agri_dt09__livestock_census'),
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
    species,
    headcount
from unioned
order by system_code asc, record_id asc, run_id desc
