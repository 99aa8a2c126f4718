-- QĐ 766 feed, digitisation tree (dossier-digitized), one row per landed record: the portal's
-- counts of digitised and re-used dossiers (766-4.2, 4.3) beside the hub's own.
with source as (
    select * from {{ source('portal766', 'dossier_digitized') }}
)

select
    _period as period,
    id as unit_code,
    name as unit_name,
    totalreceived as received_count,
    totaldigitized as digitised_count,
    totalreused as reused_count,
    totalcitizenformalities as citizen_procedure_count,
    totalcitizenformalitiesvneid as citizen_procedure_vneid_count,
    ratio as ratio_pct,
    score,
    _run_id as run_id,
    load_date
from source
