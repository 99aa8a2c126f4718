-- Drug lines follow their episode's latest version: lines of superseded copies (an earlier run,
-- or an earlier file re-sent in the same run) are dropped.
with latest_run as (
    select
        facility_code,
        episode_id,
        run_id,
        source_file
    from {{ ref('int_health_episodes_latest') }}
)

select drug_line.*
from {{ ref('stg_health_xml130__drug_lines') }} as drug_line
inner join latest_run
    on
        drug_line.facility_code = latest_run.facility_code
        and drug_line.episode_id = latest_run.episode_id
        and drug_line.run_id = latest_run.run_id
        and drug_line.source_file = latest_run.source_file
