-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Aquaculture output per record (tonnes by species), from the aquaculture database (TS01), the
-- pangasius traceability drops (TS03) and the provincial platform (DT01), one row per system and
-- record (latest run).
with unioned as (
    {{ union_by_name([
        ref('stg_agri_ts01__aquaculture_output'),
        ref('stg_agri_ts03__aquaculture_output'),
        ref('stg_agri_dt01__aquaculture_output'),
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
    output_t
from unioned
order by system_code asc, record_id asc, run_id desc
