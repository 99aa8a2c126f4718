-- Dossiers (hồ sơ TTHC) as an accumulating snapshot: one row per dossier (MaHoSo, duplicates and
-- re-reads resolved) with every life-cycle date, its current status and the QĐ 766 facts
-- (on time, online, paid online, digitised, supplement requests, synced).
with dossiers as (
    select * from {{ ref('int_public_services__dossiers') }}
),

facts as (
    select * from {{ ref('int_public_services__dossier_facts') }}
)

select
    dossiers.dossier_code,
    dossiers.dossier_row_id,
    dossiers.procedure_code,
    dossiers.commune_code,
    dossiers.legacy_district_code,
    dossiers.commune_code_sent,
    dossiers.channel_code,
    dossiers.channel_name,
    dossiers.applicant_type_code,
    dossiers.applicant_type_name,
    dossiers.holder_key,
    dossiers.handling_unit,
    dossiers.status_code,
    dossiers.status_name,
    dossiers.submitted_at,
    dossiers.received_at,
    dossiers.due_at,
    dossiers.processing_ended_at,
    dossiers.returned_at,
    dossiers.refused_at,
    facts.withdrawn_at,
    facts.received_on,
    facts.due_on,
    facts.finished_on,
    facts.reception_period,
    dossiers.row_copies,
    dossiers.is_quarantined,
    facts.is_counted,
    facts.is_on_time,
    facts.is_completed,
    facts.processing_days,
    facts.processing_days_net,
    facts.paused_days,
    facts.supplement_request_count,
    facts.is_paid_online,
    dossiers.online_payment_code,
    facts.has_nonzero_fee,
    facts.fee_row_count,
    facts.fee_total_vnd,
    facts.is_fee_bearing_procedure,
    facts.is_citizen_procedure,
    facts.is_online_procedure,
    facts.attachment_count,
    facts.digitised_attachment_count,
    facts.has_reused_document,
    facts.has_store_document,
    facts.is_result_procedure,
    facts.is_result_required,
    facts.has_electronic_result,
    facts.is_digitised,
    facts.has_complaint,
    facts.is_synced,
    facts.synced_on,
    dossiers.is_vneid_account,
    dossiers.updated_at,
    coalesce(dossiers.channel_code = 2, false) as is_online_channel,
    dossiers.status_code in (7, 9, 10) as is_finished
from dossiers
inner join facts
    on dossiers.dossier_code = facts.dossier_code
