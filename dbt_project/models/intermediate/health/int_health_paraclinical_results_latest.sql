-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Paraclinical results (XML4) of each episode's latest version, as the service lines: results
-- of superseded copies and of episodes that never landed are dropped.
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

select paraclinical_result.*
from {{ ref('stg_health_xml130__paraclinical_results') }} as paraclinical_result
inner join latest_run
    on
        paraclinical_result.facility_code = latest_run.facility_code
        and paraclinical_result.episode_id = latest_run.episode_id
        and paraclinical_result.run_id = latest_run.run_id
        and paraclinical_result.source_file = latest_run.source_file
where
    {{ lake_increment_filter(
        'health_xml130', 'paraclinical_result.run_id', 'paraclinical_result.load_date'
    ) }}
