{{ config(tags=['kpi_input']) }}
-- Statistics-feed KPI inputs (XH-01..04, KT-01, KT-02, OPS-SME-ECOM, OPS-OCOP-ONLINE and the
-- yearly DT-01..04, carried on the year's December): every row counted adds to province 82 (old
-- provinces 87 and 82 summed before July 2025); district rows (before July) to their old
-- district, commune rows (from July) to their current commune.
-- The economy and yearly indicators are the province's figures (rule clauses <kpi>/numerator
-- and /unit: province-level rows only): a district or commune breakdown is not counted.
-- DT-02 is a rank, never summed: the rank itself over a denominator of 1, before July 2025 old
-- Đồng Tháp's (87; old Tiền Giang's row is not read); the provinces ranked (mau_so) are not read.
with indicators as (
    select * from {{ ref('int_statistics__indicators_latest') }}
    where
        (
            admin_level = 'province'
            or indicator_code not in (
                'KT-01', 'KT-02', 'OPS-SME-ECOM', 'OPS-OCOP-ONLINE',
                'DT-01', 'DT-02', 'DT-03', 'DT-04'
            )
        )
        and (indicator_code != 'DT-02' or period >= '2025-07' or province_code = '87')
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
    case
        when kpi_id = 'DT-02' then 1.0 else sum(denominator)
    end as denominator,
    case
        when kpi_id = 'DT-02' then sum(numerator)
        when sum(denominator) > 0 then sum(numerator) / sum(denominator)
    end as value  -- noqa: RF04
from units
group by kpi_id, period, admin_level, admin_code, structure
