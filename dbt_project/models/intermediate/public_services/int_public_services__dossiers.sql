-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One row per dossier (MaHoSo): the latest version of each row id (the cursor re-reads a row each
-- time it changes, with a later updated_at), then one row per MaHoSo (a dossier row inserted
-- twice keeps its first id). The sender's commune code is resolved to the 2025 commune (codes as
-- sent on the day the system recorded the dossier: reception, else submission) and to the old
-- district. is_quarantined: the landing gate rejected the dossier's latest version (impossible or
-- future date) or one of its fee rows (negative amount) — the dossier is unreadable for the KPIs.
with landed as (
    select * from {{ ref('stg_one_stop__dossiers') }}
),

quarantined as (
    select * from {{ ref('stg_one_stop__quarantined') }}
),

latest_per_row as (
    select
        landed.*,
        row_number() over (
            partition by landed.dossier_row_id
            order by landed.updated_at desc, landed.run_id desc
        ) as version_rank
    from landed
),

per_dossier as (
    select
        latest_per_row.*,
        count(*) over (partition by latest_per_row.dossier_code) as row_copies,
        row_number() over (
            partition by latest_per_row.dossier_code
            order by latest_per_row.dossier_row_id
        ) as copy_rank
    from latest_per_row
    where latest_per_row.version_rank = 1
),

rejected as (
    select distinct quarantined.dossier_code
    from quarantined
    left join latest_per_row
        on
            quarantined.dossier_row_id = latest_per_row.dossier_row_id
            and latest_per_row.version_rank = 1
    where
        quarantined.table_name = 'danh_sach_le_phi'
        or (
            quarantined.table_name = 'ho_so'
            and (
                latest_per_row.dossier_row_id is null
                or quarantined.updated_at >= latest_per_row.updated_at
            )
        )
)

select
    per_dossier.dossier_code,
    per_dossier.dossier_row_id,
    per_dossier.row_copies,
    per_dossier.procedure_code,
    per_dossier.channel_code,
    per_dossier.channel_name,
    per_dossier.applicant_type_code,
    per_dossier.applicant_type_name,
    per_dossier.holder_key,
    per_dossier.submitted_at,
    per_dossier.received_at,
    per_dossier.due_at,
    per_dossier.processing_ended_at,
    per_dossier.returned_at,
    per_dossier.refused_at,
    per_dossier.status_code,
    per_dossier.status_name,
    per_dossier.handling_unit,
    per_dossier.is_flagged_digitised,
    per_dossier.is_vneid_account,
    per_dossier.online_payment_code,
    per_dossier.commune_code_sent,
    per_dossier.district_code_sent,
    per_dossier.updated_at,
    per_dossier.run_id,
    {{ resolve_admin_code(
        'per_dossier.commune_code_sent',
        'cast(coalesce(per_dossier.received_at, per_dossier.submitted_at) as date)',
        'per_dossier.district_code_sent'
    ) }} as commune_code,
    legacy.district_code as legacy_district_code,
    rejected.dossier_code is not null as is_quarantined
from per_dossier
left join {{ ref('admin_unit_legacy') }} as legacy
    on per_dossier.commune_code_sent = legacy.commune_code
left join rejected
    on per_dossier.dossier_code = rejected.dossier_code
where per_dossier.copy_rank = 1
