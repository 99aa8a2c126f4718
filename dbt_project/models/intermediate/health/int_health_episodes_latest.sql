-- A facility may re-send an episode (a corrected claim, or the same claim in a later file): the
-- copy in the latest file wins (then the latest landing run).
select *
from {{ ref('stg_health_xml130__episodes') }}
qualify row_number() over (
    partition by facility_code, episode_id
    order by file_date desc, run_id desc, source_file desc
) = 1
