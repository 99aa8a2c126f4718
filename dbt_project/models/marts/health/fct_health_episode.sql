-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Lượt khám chữa bệnh — one row per treatment episode (XML1), latest version, with its drug
-- lines summarised, the residence commune as sent and resolved to the current structure, and
-- the treating facility. Patient identifiers are pseudonyms; no clear personal data.
with episodes as (
    select * from {{ ref('int_health_episodes_latest') }}
),

drug_lines as (
    select
        facility_code,
        episode_id,
        count(*) as drug_lines,
        sum(amount_vnd) as drug_cost_vnd
    from {{ ref('int_health_drug_lines_latest') }}
    group by facility_code, episode_id
)

select
    episodes.facility_code || ':' || episodes.episode_id as episode_key,
    episodes.episode_id,
    episodes.facility_code,
    episodes.patient_key,
    episodes.visit_type_code,
    episodes.admitted_at,
    episodes.discharged_at,
    episodes.residence_province_code,
    episodes.residence_commune_code,
    episodes.primary_icd10,
    episodes.treatment_days,
    episodes.total_cost_vnd,
    episodes.insurance_paid_vnd,
    episodes.patient_paid_vnd,
    cast(episodes.admitted_at as date) as admission_date,
    coalesce(drug_lines.drug_lines, 0) as drug_lines,
    coalesce(drug_lines.drug_cost_vnd, 0) as drug_cost_vnd,
    episodes.residence_district_code,
    episodes.current_commune_code,
    episodes.visit_type_name,
    episodes.discharge_type_code,
    episodes.discharge_type_name,
    episodes.is_referred,
    episodes.referred_to_facility_code,
    facilities.facility_kind,
    episodes.file_date,
    {{ month_key("episodes.admitted_at") }} as admission_period
from episodes
left join drug_lines
    on
        episodes.facility_code = drug_lines.facility_code
        and episodes.episode_id = drug_lines.episode_id
left join {{ ref('dim_facility') }} as facilities
    on episodes.facility_code = facilities.facility_code
