-- What each counted dossier and each petition contributes to the QĐ 766 indicators of its
-- reception month (the rule set: docs/kpis.md; simulator/public_services/kpi.py writes the same
-- rules into the demo's ground truth), with the reason when it falls short of the numerator.
-- One row per record × indicator; int_kpi__public_services sums them per unit and level, and
-- `ioc kpi explain` ranks them. 766-3.3 is not here: it is 766-3.3r × 766-1.4 of the unit.
-- reason_code is null when the record adds as much to the numerator as to the denominator
-- (for 766-2.2/2.2n it names the days counted).
with dossiers as (
    select * from {{ ref('fct_dossier') }}
    where is_counted
),

petitions as (
    select * from {{ ref('fct_petition') }}
),

late as (
    select
        dossiers.*,
        case
            when dossiers.is_on_time then null
            when dossiers.supplement_request_count > 1 then 'several_supplement_requests'
            when dossiers.finished_on is not null then 'finished_after_due_date'
            else 'open_past_due_date'
        end as late_code,
        case
            when dossiers.is_on_time then null
            when dossiers.supplement_request_count > 1
                then
                    cast(dossiers.supplement_request_count as varchar)
                    || ' supplement requests: more than one makes a dossier late'
            when dossiers.finished_on is not null
                then
                    'finished ' || cast(dossiers.finished_on as varchar) || ', due '
                    || cast(dossiers.due_on as varchar) || ' + '
                    || cast(dossiers.paused_days as varchar) || ' paused days'
            else
                'unfinished at the end of '
                || dossiers.reception_period || ', due ' || cast(dossiers.due_on as varchar)
                || ' + ' || cast(dossiers.paused_days as varchar) || ' paused days'
        end as late_reason,
        case
            when dossiers.attachment_count = 0 then 'no_attachment'
            when dossiers.digitised_attachment_count < dossiers.attachment_count
                then 'attachment_not_digitised'
            when dossiers.is_result_procedure and not dossiers.has_electronic_result
                then 'no_electronic_result'
        end as digitised_code,
        case
            when dossiers.attachment_count = 0 then 'no document attached'
            when dossiers.digitised_attachment_count < dossiers.attachment_count
                then
                    cast(dossiers.attachment_count - dossiers.digitised_attachment_count as varchar)
                    || ' of ' || cast(dossiers.attachment_count as varchar)
                    || ' documents not digitised'
            when dossiers.is_result_procedure and not dossiers.has_electronic_result
                then
                    'the procedure returns a result document and no electronic result exists'
                    || ' (status ' || cast(dossiers.status_code as varchar) || ')'
        end as digitised_reason
    from dossiers
),

dossier_rows as (
    select
        '766-1.4' as kpi_id,
        *,
        cast(is_synced as integer) as numerator,
        1 as denominator,
        case when not is_synced then 'not_synced' end as reason_code,
        case when not is_synced then 'never synchronised to the national portal' end as reason
    from late
    union all
    select
        '766-2.1' as kpi_id,
        *,
        cast(is_on_time as integer) as numerator,
        1 as denominator,
        late_code as reason_code,
        late_reason as reason
    from late
    union all
    select
        '766-2.2' as kpi_id,
        *,
        processing_days as numerator,
        1 as denominator,
        'processing_days' as reason_code,
        cast(processing_days as varchar) || ' days from reception '
        || cast(received_on as varchar) || ' to the end of processing '
        || cast(finished_on as varchar) as reason
    from late
    where is_completed
    union all
    select
        '766-2.2n' as kpi_id,
        *,
        processing_days_net as numerator,
        1 as denominator,
        'processing_days_net' as reason_code,
        cast(processing_days_net as varchar) || ' days: '
        || cast(processing_days as varchar) || ' from reception to the end minus '
        || cast(processing_days - processing_days_net as varchar)
        || ' waiting for the applicant' as reason
    from late
    where is_completed
    union all
    select
        '766-3.3r' as kpi_id,
        *,
        cast(coalesce(channel_code = 2, false) as integer) as numerator,
        1 as denominator,
        case when coalesce(channel_code != 2, true) then 'not_online' end as reason_code,
        case
            when coalesce(channel_code != 2, true)
                then 'submitted ' || replace(coalesce(channel_name, 'in_person'), '_', ' ')
        end as reason
    from late
    union all
    select
        '766-3.6' as kpi_id,
        *,
        cast(is_paid_online as integer) as numerator,
        1 as denominator,
        case when not is_paid_online then 'not_paid_online' end as reason_code,
        case
            when not is_paid_online then 'a non-zero fee not paid online'
        end as reason
    from late
    where is_fee_bearing_procedure and has_nonzero_fee
    union all
    select
        '766-4.1' as kpi_id,
        *,
        cast(has_electronic_result as integer) as numerator,
        1 as denominator,
        case when not has_electronic_result then 'no_electronic_result' end as reason_code,
        case
            when not has_electronic_result
                then 'completed without an electronic result'
        end as reason
    from late
    where is_result_required
    union all
    select
        '766-4.2' as kpi_id,
        *,
        cast(is_digitised as integer) as numerator,
        1 as denominator,
        digitised_code as reason_code,
        digitised_reason as reason
    from late
    union all
    select
        '766-4.2f' as kpi_id,
        *,
        cast(is_digitised as integer) as numerator,
        1 as denominator,
        digitised_code as reason_code,
        digitised_reason as reason
    from late
    where is_completed
    union all
    select
        '766-4.3' as kpi_id,
        *,
        cast(has_reused_document as integer) as numerator,
        1 as denominator,
        case when not has_reused_document then 'no_reused_document' end as reason_code,
        case when not has_reused_document then 'no document re-used' end as reason
    from late
    union all
    select
        '766-4.4' as kpi_id,
        *,
        cast(has_store_document as integer) as numerator,
        1 as denominator,
        case when not has_store_document then 'no_store_document' end as reason_code,
        case
            when not has_store_document then 'no document from the national data store'
        end as reason
    from late
    union all
    select
        '766-4.5b' as kpi_id,
        *,
        cast(is_vneid_account as integer) as numerator,
        1 as denominator,
        case when not is_vneid_account then 'not_vneid' end as reason_code,
        case when not is_vneid_account then 'account not verified with VNeID' end as reason
    from late
    where applicant_type_code = 1
    union all
    select
        '766-5.4' as kpi_id,
        *,
        1 - cast(not is_on_time as integer) - cast(has_complaint as integer) as numerator,
        1 as denominator,
        case
            when not is_on_time and has_complaint then 'late_and_complaint'
            when not is_on_time then 'late'
            when has_complaint then 'complaint'
        end as reason_code,
        case
            when not is_on_time and has_complaint
                then 'late (' || late_reason || ') and complained about'
            when not is_on_time then 'late (' || late_reason || ')'
            when has_complaint then 'complained about'
        end as reason
    from late
),

petition_rows as (
    select
        '766-5.2' as kpi_id,
        *,
        cast(is_on_time as integer) as numerator,
        1 as denominator,
        case when not is_on_time then 'petition_late' end as reason_code,
        case
            when not is_on_time then 'not handled within its limit of working days'
        end as reason
    from petitions
    union all
    select
        '766-5.3' as kpi_id,
        *,
        1
        - cast(coalesce(not is_satisfied, false) as integer)
        - cast(not is_on_time as integer)
        - cast(is_repeated as integer) as numerator,
        1 as denominator,
        nullif(
            concat_ws(
                '_and_',
                case when coalesce(not is_satisfied, false) then 'unsatisfied' end,
                case when not is_on_time then 'late' end,
                case when is_repeated then 'repeated' end
            ),
            ''
        ) as reason_code,
        nullif(
            concat_ws(
                ', ',
                case when coalesce(not is_satisfied, false) then 'the sender was not satisfied' end,
                case when not is_on_time then 'handled late' end,
                case when is_repeated then 'a repeated petition' end
            ),
            ''
        ) as reason
    from petitions
)

select
    cast(kpi_id as varchar) as kpi_id,
    cast(reception_period as varchar) as period,
    cast(commune_code as varchar) as commune_code,
    cast(legacy_district_code as varchar) as legacy_district_code,
    cast('dossier' as varchar) as record_type,
    cast(dossier_code as varchar) as record_id,
    cast(procedure_code as varchar) as procedure_code,
    cast(numerator as double precision) as numerator,
    cast(denominator as double precision) as denominator,
    cast(reason_code as varchar) as reason_code,
    cast(reason as varchar) as reason
from dossier_rows
union all
select
    cast(kpi_id as varchar) as kpi_id,
    cast(reception_period as varchar) as period,
    cast(commune_code as varchar) as commune_code,
    cast(legacy_district_code as varchar) as legacy_district_code,
    cast('petition' as varchar) as record_type,
    cast(petition_code as varchar) as record_id,
    cast(null as varchar) as procedure_code,
    cast(numerator as double precision) as numerator,
    cast(denominator as double precision) as denominator,
    cast(reason_code as varchar) as reason_code,
    cast(reason as varchar) as reason
from petition_rows
