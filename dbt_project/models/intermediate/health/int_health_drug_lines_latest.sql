-- Drug lines follow their episode's latest version: lines from superseded runs are dropped.
with latest_run as (
    select
        facility_code,
        episode_id,
        run_id
    from {{ ref('int_health_episodes_latest') }}
)

select drug_line.*
from {{ ref('stg_health_xml130__drug_lines') }} as drug_line
inner join latest_run
    on
        drug_line.facility_code = latest_run.facility_code
        and drug_line.episode_id = latest_run.episode_id
        and drug_line.run_id = latest_run.run_id
