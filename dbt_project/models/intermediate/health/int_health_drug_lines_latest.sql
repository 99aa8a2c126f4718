-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Drug lines follow their episode's latest version: lines of superseded copies (an earlier run,
-- or an earlier file re-sent in the same run) are dropped.
-- Incremental (macros/lake_increment.sql): only the episodes whose latest version came with the
-- runs landed since the last build are redone, their old lines deleted first (pre-hook).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ lake_increment_drop_lines('health_xml130') }}",
    post_hook="{{ lake_increment_record('health_xml130') }}",
) }}

with latest_run as (
    select
        facility_code,
        episode_id,
        run_id,
        source_file
    from {{ ref('int_health_episodes_latest') }}
    where {{ lake_increment_filter('health_xml130') }}
)

select drug_line.*
from {{ ref('stg_health_xml130__drug_lines') }} as drug_line
inner join latest_run
    on
        drug_line.facility_code = latest_run.facility_code
        and drug_line.episode_id = latest_run.episode_id
        and drug_line.run_id = latest_run.run_id
        and drug_line.source_file = latest_run.source_file
where {{ lake_increment_filter('health_xml130', 'drug_line.run_id', 'drug_line.load_date') }}
