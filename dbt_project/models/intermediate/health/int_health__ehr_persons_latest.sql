-- One row per person with an EHR: the incremental cursor (last_updated) re-reads a record each
-- time it changes, so the latest update wins (then the latest landing run).
select distinct on (person_key) *
from {{ ref('stg_ehr_registry__persons') }}
order by person_key asc, last_updated desc, run_id desc
