-- A facility may re-send an episode (a corrected claim, or the same claim in a later file): the
-- copy in the latest file wins (then the latest landing run).
select distinct on (facility_code, episode_id) *
from {{ ref('stg_health_xml130__episodes') }}
order by facility_code asc, episode_id asc, file_date desc, run_id desc, source_file desc
