{{ config(tags=['kpi_input']) }}
-- Agriculture KPI inputs.
-- OPS-AGRI-SYSTEMS-OPERATING (province 82 only, every month): systems with ≥1 row dated in the
-- month / systems in the registry.
-- OPS-AGRI-PLANTED-AREA-HA: hectares sown in the month (TT01 crop_area planted_ha, a re-sent
-- record once, negative areas quarantined at landing), denominator 1 per unit-month, on the
-- current commune, the old district (months before July 2025) and province 82.
with operating as (
    select
        'OPS-AGRI-SYSTEMS-OPERATING' as kpi_id,
        period,
        'province' as admin_level,
        '82' as admin_code,
        '2025' as structure,
        cast(sum(cast(is_delivered as integer)) as double precision) as numerator,
        cast(count(*) as double precision) as denominator
    from {{ ref('fct_agri_system_delivery') }}
    group by period
),

planted as (
    select
        crop_area.period,
        crop_area.commune_code,
        coalesce(crop_area.district_code, legacy.district_code) as legacy_district_code,
        crop_area.planted_ha
    from {{ ref('fct_crop_area') }} as crop_area
    left join {{ ref('admin_unit_legacy') }} as legacy
        on crop_area.sent_commune_code = legacy.commune_code
    where crop_area.system_code = 'TT01' and crop_area.planted_ha is not null
),

planted_units as (
    select
        period,
        'commune' as admin_level,
        commune_code as admin_code,
        '2025' as structure,
        planted_ha
    from planted
    where commune_code is not null
    union all
    select
        period,
        'district' as admin_level,
        legacy_district_code as admin_code,
        'legacy' as structure,
        planted_ha
    from planted
    where period < '2025-07' and legacy_district_code is not null
    union all
    select
        period,
        'province' as admin_level,
        '82' as admin_code,
        '2025' as structure,
        planted_ha
    from planted
),

planted_area as (
    select
        'OPS-AGRI-PLANTED-AREA-HA' as kpi_id,
        period,
        admin_level,
        admin_code,
        structure,
        cast(sum(planted_ha) as double precision) as numerator,
        1.0 as denominator
    from planted_units
    group by period, admin_level, admin_code, structure
)

select
    kpi_id,
    period,
    admin_level,
    admin_code,
    structure,
    numerator,
    denominator,
    numerator / denominator as value  -- noqa: RF04
from operating
union all
select
    kpi_id,
    period,
    admin_level,
    admin_code,
    structure,
    numerator,
    denominator,
    numerator / denominator as value  -- noqa: RF04
from planted_area
