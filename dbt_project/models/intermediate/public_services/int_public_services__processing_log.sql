-- Processing log (NhatKyXuLy) as the system holds it now: the table has no
-- cursor and is re-read whole (landed again only when its content changed), so the latest run
-- that landed it is the current table.
with landed as (
    select * from {{ ref('stg_one_stop__processing_log') }}
)

select landed.*
from landed
where landed.run_id = (select max(latest.run_id) from landed as latest)
