-- QĐ 766 feed, online provision tree (provide-online-tree), one row per landed record.
with source as (
    select * from {{ source('portal766', 'provide_online') }}
)

select
    _period as period,
    id as unit_code,
    name as unit_name,
    totalreceived as received_count,
    onlinedossiercount as online_dossier_count,
    channelonlinesum as channel_online_count,
    channeldirectsum as channel_direct_count,
    channelpostalsum as channel_postal_count,
    totalformalities as procedure_count,
    totalonlineformalities as online_procedure_count,
    totalonlineformalitiesused as online_procedure_used_count,
    ratio as ratio_pct,
    score,
    _run_id as run_id,
    load_date
from source
