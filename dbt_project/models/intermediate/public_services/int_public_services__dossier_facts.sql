-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- What the QĐ 766 dossier indicators need of each dossier (simulator/public_services/kpi.py is
-- the specification), one row per dossier. Dates are compared by calendar day.
-- - is_counted: received (NgayTiepNhan set, status not 1 or 3) and not quarantined.
-- - on-time end: NgayKetThucXuLy when finished (7, 9, 10), else the last day of the reception
--   month; paused_days: days between each supplement request and its answer (unanswered: the
--   end), each cut at the end; on time ⇔ ≤1 supplement request and end ≤ due + paused days.
-- - processing_days (completed, 9 or 10): calendar days from reception to the end (766-2.2);
--   processing_days_net: the same minus the days paused for supplements, ≥ 0 (766-2.2n).
-- - is_digitised: ≥1 attachment, every one digitised, and an electronic result when the
--   procedure returns a result document (CoKetQua), whatever the status: an unfinished dossier
--   of such a procedure is not digitised yet (766-4.2; 766-4.2f counts completed dossiers only).
-- The readings and their references: docs/kpis.md (766-2.2, 766-4.2).
-- - is_synced: a processing-log row "Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia"; synced_on
--   its first day (the national portal files the dossier in that month).
with dossiers as (
    select * from {{ ref('int_public_services__dossiers') }}
),

procedures as (
    select * from {{ ref('int_public_services__procedures') }}
),

supplements as (
    select * from {{ ref('int_public_services__supplement_requests') }}
),

documents as (
    select
        dossier_code,
        count(*) as attachment_count,
        count(*) filter (where is_digitised) as digitised_attachment_count,
        coalesce(bool_or(is_reused), false) as has_reused_document,
        coalesce(bool_or(is_from_national_store), false) as has_store_document
    from {{ ref('int_public_services__documents') }}
    group by dossier_code
),

fees as (
    select
        dossier_code,
        count(*) as fee_row_count,
        sum(amount_vnd) as fee_total_vnd,
        coalesce(bool_or(amount_vnd != 0), false) as has_nonzero_fee
    from {{ ref('int_public_services__fees') }}
    group by dossier_code
),

results as (
    select
        dossier_code,
        coalesce(bool_or(is_electronic), false) as has_electronic_result
    from {{ ref('int_public_services__results') }}
    group by dossier_code
),

complaints as (
    select distinct dossier_code
    from {{ ref('int_public_services__petitions') }}
    where dossier_code is not null
),

log_facts as (
    select
        dossier_code,
        coalesce(
            bool_or(action_text = 'Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia'), false
        ) as is_synced,
        min(processed_at) filter (
            where action_text = 'Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia'
        ) as synced_at,
        min(processed_at) filter (where status_code = 7) as withdrawn_at
    from {{ ref('int_public_services__processing_log') }}
    group by dossier_code
),

base as (
    select
        dossiers.dossier_code,
        dossiers.procedure_code,
        dossiers.commune_code,
        dossiers.legacy_district_code,
        dossiers.status_code,
        dossiers.channel_code,
        dossiers.applicant_type_code,
        dossiers.online_payment_code,
        coalesce(dossiers.is_vneid_account, false) as is_vneid_account,
        cast(dossiers.received_at as date) as received_on,
        cast(dossiers.due_at as date) as due_on,
        case
            when dossiers.status_code in (7, 9, 10)
                then cast(dossiers.processing_ended_at as date)
        end as finished_on,
        coalesce(
            dossiers.received_at is not null
            and dossiers.status_code not in (1, 3)
            and not dossiers.is_quarantined,
            false
        ) as is_counted,
        coalesce(procedures.fee_vnd > 0, false) as is_fee_bearing_procedure,
        coalesce(procedures.applicant_type_code = 1, false) as is_citizen_procedure,
        coalesce(procedures.online_level >= 3, false) as is_online_procedure,
        coalesce(procedures.has_result_document, false) as is_result_procedure,
        coalesce(
            procedures.has_result_document and dossiers.status_code in (9, 10), false
        ) as is_result_required
    from dossiers
    left join procedures
        on dossiers.procedure_code = procedures.procedure_code
),

with_end as (
    select
        base.*,
        coalesce(
            base.finished_on, {{ dbt.last_day('base.received_on', 'month') }}
        ) as on_time_end_on
    from base
),

pauses as (
    select
        with_end.dossier_code,
        count(*) as supplement_request_count,
        sum(greatest(
            0,
            {{ dbt.datediff(
                "cast(supplements.requested_at as date)",
                "least(coalesce(cast(supplements.supplemented_at as date), with_end.on_time_end_on), with_end.on_time_end_on)",
                'day'
            ) }}
        )) as paused_days,
        sum(greatest(
            0,
            {{ dbt.datediff(
                "cast(supplements.requested_at as date)",
                "least(coalesce(cast(supplements.supplemented_at as date), with_end.finished_on), with_end.finished_on)",
                'day'
            ) }}
        )) as paused_days_to_finish
    from with_end
    inner join supplements
        on with_end.dossier_code = supplements.dossier_code
    group by with_end.dossier_code
)

select
    with_end.dossier_code,
    with_end.procedure_code,
    with_end.commune_code,
    with_end.legacy_district_code,
    with_end.status_code,
    with_end.channel_code,
    with_end.applicant_type_code,
    with_end.online_payment_code,
    with_end.is_vneid_account,
    with_end.received_on,
    with_end.due_on,
    with_end.finished_on,
    with_end.on_time_end_on,
    with_end.is_counted,
    with_end.is_fee_bearing_procedure,
    with_end.is_citizen_procedure,
    with_end.is_online_procedure,
    with_end.is_result_procedure,
    with_end.is_result_required,
    log_facts.withdrawn_at,
    {{ month_key("with_end.received_on") }} as reception_period,
    coalesce(pauses.supplement_request_count, 0) as supplement_request_count,
    coalesce(pauses.paused_days, 0) as paused_days,
    coalesce(
        coalesce(pauses.supplement_request_count, 0) <= 1
        and with_end.on_time_end_on
        <= with_end.due_on + cast(coalesce(pauses.paused_days, 0) as integer),
        false
    ) as is_on_time,
    with_end.status_code in (9, 10) and with_end.finished_on is not null as is_completed,
    case
        when with_end.status_code in (9, 10) and with_end.finished_on is not null
            then greatest(
                0, {{ dbt.datediff('with_end.received_on', 'with_end.finished_on', 'day') }}
            )
    end as processing_days,
    case
        when with_end.status_code in (9, 10) and with_end.finished_on is not null
            then greatest(
                0,
                {{ dbt.datediff('with_end.received_on', 'with_end.finished_on', 'day') }}
                - coalesce(pauses.paused_days_to_finish, 0)
            )
    end as processing_days_net,
    coalesce(documents.attachment_count, 0) as attachment_count,
    coalesce(documents.digitised_attachment_count, 0) as digitised_attachment_count,
    coalesce(documents.has_reused_document, false) as has_reused_document,
    coalesce(documents.has_store_document, false) as has_store_document,
    coalesce(fees.fee_row_count, 0) as fee_row_count,
    coalesce(fees.fee_total_vnd, 0) as fee_total_vnd,
    coalesce(fees.has_nonzero_fee, false) as has_nonzero_fee,
    coalesce(with_end.online_payment_code in (1, 2), false) as is_paid_online,
    coalesce(results.has_electronic_result, false) as has_electronic_result,
    coalesce(
        documents.attachment_count > 0
        and documents.digitised_attachment_count = documents.attachment_count
        and (not with_end.is_result_procedure or coalesce(results.has_electronic_result, false)),
        false
    ) as is_digitised,
    complaints.dossier_code is not null as has_complaint,
    coalesce(log_facts.is_synced, false) as is_synced,
    cast(log_facts.synced_at as date) as synced_on
from with_end
left join pauses
    on with_end.dossier_code = pauses.dossier_code
left join documents
    on with_end.dossier_code = documents.dossier_code
left join fees
    on with_end.dossier_code = fees.dossier_code
left join results
    on with_end.dossier_code = results.dossier_code
left join complaints
    on with_end.dossier_code = complaints.dossier_code
left join log_facts
    on with_end.dossier_code = log_facts.dossier_code
