-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Dòng dịch vụ kỹ thuật và vật tư y tế — one row per XML3 line (service, examination, bed day
-- or medical supply) of each episode's latest version, with the episode's facility, dates and
-- residence commune resolved to the current structure, so costs can be cut by commune and
-- month without a join to the episode fact.
with service_lines as (
    select * from {{ ref('int_health_service_lines_latest') }}
),

episodes as (
    select * from {{ ref('int_health_episodes_latest') }}
)

select
    service_lines.facility_code || ':' || service_lines.episode_id || ':'
    || cast(service_lines.line_no as varchar) as service_line_key,
    service_lines.facility_code || ':' || service_lines.episode_id as episode_key,
    episodes.facility_code,
    service_lines.episode_id,
    service_lines.line_no,
    service_lines.service_group_code,
    service_lines.is_supply,
    service_lines.service_code,
    service_lines.supply_code,
    coalesce(service_lines.supply_name, service_lines.service_name) as item_name,
    service_lines.unit_name,
    service_lines.department_code,
    service_lines.coverage_scope_code,
    service_lines.quantity,
    service_lines.unit_price_vnd,
    service_lines.insurance_unit_price_vnd,
    service_lines.amount_vnd,
    service_lines.insured_amount_vnd,
    service_lines.benefit_level_pct,
    service_lines.insurance_paid_vnd,
    coalesce(service_lines.patient_copay_vnd, 0)
    + coalesce(service_lines.patient_self_pay_vnd, 0) as patient_paid_vnd,
    service_lines.other_sources_vnd,
    service_lines.ordered_at,
    service_lines.performed_at,
    service_lines.resulted_at,
    episodes.visit_type_code,
    episodes.admitted_at,
    episodes.discharged_at,
    cast(episodes.admitted_at as date) as admission_date,
    {{ month_key("episodes.admitted_at") }} as admission_period,
    episodes.residence_commune_code,
    episodes.current_commune_code
from service_lines
inner join episodes
    on
        service_lines.facility_code = episodes.facility_code
        and service_lines.episode_id = episodes.episode_id
