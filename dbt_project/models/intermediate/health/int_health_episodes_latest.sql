-- A facility may re-send an episode (a corrected claim): the latest landing run wins.
select *
from {{ ref('stg_health_xml130__episodes') }}
qualify row_number() over (
    partition by facility_code, episode_id
    order by run_id desc, source_file desc
) = 1
