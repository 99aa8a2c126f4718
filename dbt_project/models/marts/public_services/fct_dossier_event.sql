-- The dossiers' processing log (nhật ký xử lý): one row per dossier and step, with the status
-- the step set and the status before it (the dossier's status history). Only steps of dossiers
-- landed (a dossier quarantined at landing has no row in fct_dossier).
with steps as (
    select * from {{ ref('int_public_services__processing_log') }}
),

dossiers as (
    select
        dossier_code,
        commune_code,
        procedure_code
    from {{ ref('int_public_services__dossiers') }}
)

select
    steps.dossier_code || '#' || cast(steps.step_number as varchar) as dossier_event_id,
    steps.dossier_code,
    steps.step_number,
    steps.processed_at,
    steps.status_code,
    case steps.status_code
        when 1 then 'newly_registered'
        when 2 then 'received'
        when 3 then 'not_received'
        when 4 then 'in_process'
        when 5 then 'supplement_requested'
        when 6 then 'financial_obligation_requested'
        when 7 then 'withdrawn'
        when 8 then 'stopped'
        when 9 then 'processed'
        when 10 then 'result_returned'
    end as status_name,
    lag(steps.status_code) over (
        partition by steps.dossier_code order by steps.step_number
    ) as previous_status_code,
    steps.action_text,
    steps.department,
    steps.official_key,
    steps.official_title,
    steps.started_at,
    steps.due_at,
    dossiers.commune_code,
    dossiers.procedure_code,
    steps.action_text = 'Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia' as is_sync_step
from steps
inner join dossiers
    on steps.dossier_code = dossiers.dossier_code
