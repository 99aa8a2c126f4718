-- The procedure catalogue (danh mục TTHC) as the one-stop system holds it now, one row per
-- procedure, with its online level, fee, field, authority level and latest publication.
with procedures as (
    select * from {{ ref('int_public_services__procedures') }}
),

decisions as (
    select * from {{ ref('int_public_services__publication_decisions') }}
),

latest_decision as (
    select
        procedure_code,
        max(decided_on) as last_decided_on,
        count(*) as publication_count
    from decisions
    group by procedure_code
)

select
    procedures.procedure_code,
    procedures.procedure_name,
    procedures.field_code,
    procedures.field_name,
    procedures.authority_level,
    procedures.online_level,
    procedures.limit_working_days,
    procedures.fee_vnd,
    procedures.is_full_online_eligible,
    procedures.has_result_document,
    procedures.is_content_complete,
    procedures.first_published_on,
    procedures.applicant_type_code,
    latest_decision.last_decided_on,
    case procedures.online_level
        when 4 then 'full_online'
        when 3 then 'partial_online'
        when 2 then 'information_only'
    end as online_level_name,
    case procedures.authority_level
        when 'tinh' then 'province'
        when 'huyen' then 'district'
        when 'xa' then 'commune'
    end as authority_level_name,
    case procedures.applicant_type_code
        when 1 then 'citizen'
        when 2 then 'business'
    end as applicant_type_name,
    coalesce(procedures.online_level >= 3, false) as is_online_service,
    coalesce(procedures.fee_vnd > 0, false) as is_fee_bearing,
    coalesce(latest_decision.publication_count, 0) as publication_count
from procedures
left join latest_decision
    on procedures.procedure_code = latest_decision.procedure_code
