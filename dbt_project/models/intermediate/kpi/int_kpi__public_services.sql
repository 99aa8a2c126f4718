{{ config(tags=['kpi_input']) }}
-- QĐ 766 dossier and petition indicators, on the 2025 commune, the old district (months before
-- July 2025, legacy structure) and province 82: the per-record contributions
-- (int_kpi__public_services__contributions, where the rules are) summed per unit and month, so
-- every level adds up; a unit-month gets a row for an indicator only when a record contributes
-- to its denominator. 766-3.3 = 766-3.3r × 766-1.4 of the same unit and month (the formula's
-- sync factor): numerator online × synced / received, denominator received.
-- OPS-OVERDUE-DOSSIERS at each month's cut: unfinished dossiers past their appointment date /
-- unfinished dossiers.
with dossiers as (
    select * from {{ ref('fct_dossier') }}
    where is_counted
),

record_contributions as (
    select
        period,
        commune_code,
        legacy_district_code,
        kpi_id,
        numerator,
        denominator
    from {{ ref('int_kpi__public_services__contributions') }}
),

months as (
    select * from {{ ref('int_public_services__months') }}
),

overdue_contributions as (
    select
        months.period,
        dossiers.commune_code,
        dossiers.legacy_district_code,
        'OPS-OVERDUE-DOSSIERS' as kpi_id,
        cast(dossiers.due_on < months.cut_on as integer) as numerator,
        1 as denominator
    from dossiers
    inner join months
        on
            dossiers.received_on <= months.cut_on
            and (dossiers.finished_on is null or dossiers.finished_on > months.cut_on)
),

contributions as (
    select * from record_contributions
    union all
    select * from overdue_contributions
),

by_commune as (
    select
        kpi_id,
        period,
        'commune' as admin_level,
        commune_code as admin_code,
        '2025' as structure,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from contributions
    where commune_code is not null
    group by kpi_id, period, commune_code
),

by_district as (
    select
        kpi_id,
        period,
        'district' as admin_level,
        legacy_district_code as admin_code,
        'legacy' as structure,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from contributions
    where period < '2025-07' and legacy_district_code is not null
    group by kpi_id, period, legacy_district_code
),

by_province as (
    select
        kpi_id,
        period,
        'province' as admin_level,
        '82' as admin_code,
        '2025' as structure,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from contributions
    group by kpi_id, period
),

summed as (
    select * from by_commune
    union all
    select * from by_district
    union all
    select * from by_province
),

online_times_sync as (
    select
        '766-3.3' as kpi_id,
        online_shares.period,
        online_shares.admin_level,
        online_shares.admin_code,
        online_shares.structure,
        online_shares.numerator * sync_factors.numerator / sync_factors.denominator as numerator,
        online_shares.denominator
    from summed as online_shares
    inner join summed as sync_factors
        on
            online_shares.period = sync_factors.period
            and online_shares.admin_level = sync_factors.admin_level
            and online_shares.admin_code = sync_factors.admin_code
            and sync_factors.kpi_id = '766-1.4'
    where online_shares.kpi_id = '766-3.3r'
),

levels as (
    select * from summed
    union all
    select * from online_times_sync
)

select
    cast(kpi_id as varchar) as kpi_id,
    cast(period as varchar) as period,
    cast(admin_level as varchar) as admin_level,
    cast(admin_code as varchar) as admin_code,
    cast(structure as varchar) as structure,
    cast(numerator as double precision) as numerator,
    cast(denominator as double precision) as denominator,
    cast(numerator as double precision)
    / nullif(cast(denominator as double precision), 0) as value  -- noqa: RF04
from levels
