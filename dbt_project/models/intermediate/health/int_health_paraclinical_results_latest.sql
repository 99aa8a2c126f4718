-- Paraclinical results (XML4) of each episode's latest version, as the service lines: results
-- of superseded copies and of episodes that never landed are dropped.
with latest_run as (
    select
        facility_code,
        episode_id,
        run_id,
        source_file
    from {{ ref('int_health_episodes_latest') }}
)

select paraclinical_result.*
from {{ ref('stg_health_xml130__paraclinical_results') }} as paraclinical_result
inner join latest_run
    on
        paraclinical_result.facility_code = latest_run.facility_code
        and paraclinical_result.episode_id = latest_run.episode_id
        and paraclinical_result.run_id = latest_run.run_id
        and paraclinical_result.source_file = latest_run.source_file
