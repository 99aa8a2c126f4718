-- Service and supply lines (XML3) follow their episode's latest version: lines of superseded
-- copies (an earlier run, or an earlier file re-sent in the same run) are dropped, and so are
-- the lines of an episode that never landed (quarantined for its values).
with latest_run as (
    select
        facility_code,
        episode_id,
        run_id,
        source_file
    from {{ ref('int_health_episodes_latest') }}
)

select service_line.*
from {{ ref('stg_health_xml130__service_lines') }} as service_line
inner join latest_run
    on
        service_line.facility_code = latest_run.facility_code
        and service_line.episode_id = latest_run.episode_id
        and service_line.run_id = latest_run.run_id
        and service_line.source_file = latest_run.source_file
