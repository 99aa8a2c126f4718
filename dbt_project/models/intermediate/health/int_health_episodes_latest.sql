-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- A facility may re-send an episode (a corrected claim, or the same claim in a later file): the
-- copy in the latest file wins (then the latest landing run).
-- A table, not a view: the episode fact, the drug lines and their fact all read it.
{{ config(materialized='table') }}

{{ latest_per_key(
    ref('stg_health_xml130__episodes'),
    ['facility_code', 'episode_id'],
    'file_date desc, run_id desc, source_file desc'
) }}
