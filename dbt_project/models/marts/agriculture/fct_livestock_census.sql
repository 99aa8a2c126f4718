-- Livestock headcount per record by species, from the national livestock database (CN01), the
-- provincial platform (DT01) and the commune veterinary logbook (DT09), one row per system and
-- record (latest run).
with unioned as (
    select * from {{ ref('stg_agri_cn01__livestock_census') }}
    union all by name
    select * from {{ ref('stg_agri_dt01__livestock_census') }}
    union all by name
    select * from {{ ref('stg_agri_dt09__livestock_census') }}
)

select
    system_code,
    record_id,
    report_date,
    strftime(report_date, '%Y-%m') as period,
    commune_code,
    sent_commune_code,
    district_code,
    species,
    headcount
from unioned
qualify row_number() over (partition by system_code, record_id order by run_id desc) = 1
