{{ config(tags=['kpi_input']) }}
-- The national digital-transformation index's public-service indicators (CQ-01..03, QĐ 922/
-- QĐ-BTTTT; QĐ 405/QĐ-BKHCN for 2025) under their own codes, so the officer who reports the DTI
-- finds them by name. Each is read as the QĐ 766 indicator it measures (kpi_rule_clauses,
-- CQ-0x/formula): CQ-01 = 766-3.2, CQ-02 = 766-3.3r, CQ-03 = 766-4.2, the province's month rows
-- (the DTI is reported for the province only). Copies, not a second computation: the two
-- readings can never drift apart.
-- Both inputs follow the KPI contract (the same columns in the same order).
with readings as (
    select * from {{ ref('int_kpi__public_services__catalogue') }}
    where kpi_id = '766-3.2'
    union all
    select * from {{ ref('int_kpi__public_services') }}
    where kpi_id in ('766-3.3r', '766-4.2') and admin_level = 'province'
)

select
    case kpi_id
        when '766-3.2' then 'CQ-01'
        when '766-3.3r' then 'CQ-02'
        when '766-4.2' then 'CQ-03'
    end as kpi_id,
    period,
    admin_level,
    admin_code,
    structure,
    numerator,
    denominator,
    value
from readings
