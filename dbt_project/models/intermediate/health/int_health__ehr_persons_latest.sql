-- One row per person with an EHR: the incremental cursor (last_updated) re-reads a record each
-- time it changes, so the latest update wins (then the latest landing run).
select *
from {{ ref('stg_ehr_registry__persons') }}
qualify row_number() over (
    partition by person_key
    order by last_updated desc, run_id desc
) = 1
