-- Aquaculture output per record (tonnes by species), from the aquaculture database (TS01), the
-- pangasius traceability drops (TS03) and the provincial platform (DT01), one row per system and
-- record (latest run).
with unioned as (
    select * from {{ ref('stg_agri_ts01__aquaculture_output') }}
    union all by name
    select * from {{ ref('stg_agri_ts03__aquaculture_output') }}
    union all by name
    select * from {{ ref('stg_agri_dt01__aquaculture_output') }}
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
    output_t
from unioned
qualify row_number() over (partition by system_code, record_id order by run_id desc) = 1
