{{ config(tags=['kpi_input']) }}
-- QĐ 766 dossier and petition indicators (simulator/public_services/kpi.py is the exact
-- specification), on the 2025 commune, the old district (months before July 2025, legacy
-- structure) and province 82. A dossier counts in its reception month and its commune when it
-- was received (status not 1, 3), once (first copy) and not quarantined; a petition in its
-- reception month and its sender's commune. Numerators and denominators are sums of per-record
-- contributions, so every level adds up; a unit-month gets a row for an indicator only when a
-- record contributes to its denominator.
-- 766-1.4 synced / received; 2.1 on time / received; 2.2 Σ processing days / completed (9, 10);
-- 3.3 online (channel 2) / received; 3.6 paid online (1, 2) / dossiers of fee-bearing procedures
-- with a non-zero fee row; 4.1 electronic result / result due; 4.2 digitised / received; 4.3 a
-- document re-used / received; 4.4 a document from the national store / received; 4.5b VNeID /
-- citizen dossiers; 5.4 received − late − complained about / received; 5.2 petitions on time /
-- petitions; 5.3 petitions − unsatisfied − late − repeated / petitions; OPS-OVERDUE-DOSSIERS at
-- each month's cut: unfinished dossiers past their appointment date / unfinished dossiers.
with dossiers as (
    select * from {{ ref('fct_dossier') }}
    where is_counted
),

petitions as (
    select * from {{ ref('fct_petition') }}
),

months as (
    select * from {{ ref('int_public_services__months') }}
),

dossier_contributions as (
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-1.4' as kpi_id,
        cast(is_synced as integer) as numerator,
        1 as denominator
    from dossiers
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-2.1' as kpi_id,
        cast(is_on_time as integer) as numerator,
        1 as denominator
    from dossiers
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-2.2' as kpi_id,
        processing_days as numerator,
        1 as denominator
    from dossiers
    where is_completed
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-3.3' as kpi_id,
        cast(channel_code = 2 as integer) as numerator,
        1 as denominator
    from dossiers
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-3.6' as kpi_id,
        cast(is_paid_online as integer) as numerator,
        1 as denominator
    from dossiers
    where is_fee_bearing_procedure and has_nonzero_fee
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-4.1' as kpi_id,
        cast(has_electronic_result as integer) as numerator,
        1 as denominator
    from dossiers
    where is_result_required
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-4.2' as kpi_id,
        cast(is_digitised as integer) as numerator,
        1 as denominator
    from dossiers
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-4.3' as kpi_id,
        cast(has_reused_document as integer) as numerator,
        1 as denominator
    from dossiers
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-4.4' as kpi_id,
        cast(has_store_document as integer) as numerator,
        1 as denominator
    from dossiers
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-4.5b' as kpi_id,
        cast(is_vneid_account as integer) as numerator,
        1 as denominator
    from dossiers
    where applicant_type_code = 1
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-5.4' as kpi_id,
        1 - cast(not is_on_time as integer) - cast(has_complaint as integer) as numerator,
        1 as denominator
    from dossiers
),

petition_contributions as (
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-5.2' as kpi_id,
        cast(is_on_time as integer) as numerator,
        1 as denominator
    from petitions
    union all
    select
        reception_period as period,
        commune_code,
        legacy_district_code,
        '766-5.3' as kpi_id,
        1
        - cast(coalesce(not is_satisfied, false) as integer)
        - cast(not is_on_time as integer)
        - cast(is_repeated as integer) as numerator,
        1 as denominator
    from petitions
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
    select * from dossier_contributions
    union all
    select * from petition_contributions
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

levels as (
    select * from by_commune
    union all
    select * from by_district
    union all
    select * from by_province
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
