-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- A facility may re-send an episode (a corrected claim, or the same claim in a later file): the
-- copy in the latest file wins (then the latest landing run).
-- Incremental (macros/lake_increment.sql): a build reads only the runs landed since the last
-- one, and each episode they carry is decided again among its new copies and the kept winner,
-- so the table equals a full rebuild's. A table: the facts and the line models all read it.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['facility_code', 'episode_id'],
    post_hook="{{ lake_increment_record('health_xml130') }}",
) }}

with arrived as (
    select *
    from {{ ref('stg_health_xml130__episodes') }}
    where {{ lake_increment_filter('health_xml130') }}
),

touched as (
    select distinct
        facility_code,
        episode_id
    from arrived
),

candidates as (
    select * from arrived
    {% if is_incremental() -%}
        union all
        select kept.*
        from {{ this }} as kept
        inner join touched
            on
                kept.facility_code = touched.facility_code
                and kept.episode_id = touched.episode_id
    {%- endif %}
)

{{ latest_per_key(
    'candidates',
    ['facility_code', 'episode_id'],
    'file_date desc, run_id desc, source_file desc',
    columns_of=ref('stg_health_xml130__episodes')
) }}
