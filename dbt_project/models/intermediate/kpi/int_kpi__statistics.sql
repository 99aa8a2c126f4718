{{ config(tags=['kpi_input']) }}
-- Statistics-feed KPI inputs (XH-01..04, KT-01, KT-02, OPS-SME-ECOM, OPS-OCOP-ONLINE): every
-- published row adds to province 82 (old provinces 87 and 82 summed before July 2025); district
-- rows (before July) to their old district, commune rows (from July) to their current commune.
with indicators as (
    select * from {{ ref('int_statistics__indicators_latest') }}
),

units as (
    select
        indicator_code as kpi_id,
        period,
        'province' as admin_level,
        '82' as admin_code,
        '2025' as structure,
        numerator,
        denominator
    from indicators
    union all
    select
        indicator_code as kpi_id,
        period,
        'district' as admin_level,
        district_code as admin_code,
        'legacy' as structure,
        numerator,
        denominator
    from indicators
    where admin_level = 'district' and period < '2025-07'
    union all
    select
        indicator_code as kpi_id,
        period,
        'commune' as admin_level,
        commune_code as admin_code,
        '2025' as structure,
        numerator,
        denominator
    from indicators
    where admin_level = 'commune' and commune_code is not null
)

select
    kpi_id,
    period,
    admin_level,
    admin_code,
    structure,
    sum(numerator) as numerator,
    sum(denominator) as denominator,
    case
        when sum(denominator) > 0 then sum(numerator) / sum(denominator)
    end as value  -- noqa: RF04
from units
group by kpi_id, period, admin_level, admin_code, structure
