{{ config(tags=['kpi_input']) }}
-- Education KPI inputs, per school in the term's exports and every month the term stands for:
-- GD-01 schools with cashless tuition / schools, OPS-SCHOOLS-DIGITAL schools with digital
-- management / schools, OPS-ENROLMENT pupils enrolled / schools reporting. Commune rows on the
-- current commune (old codes resolved), district rows (old districts) for months before July
-- 2025, province 82 for every month.
with pupils as (
    select
        school_year,
        term_code,
        school_code,
        sum(pupils_total) as pupils
    from {{ ref('int_education__enrolment_latest') }}
    group by school_year, term_code, school_code
),

kpi_ids as (
    select ids.kpi_id
    from (values ('GD-01'), ('OPS-SCHOOLS-DIGITAL'), ('OPS-ENROLMENT')) as ids (kpi_id)
),

schools as (
    select
        school_terms.school_year,
        school_terms.term_code,
        school_terms.school_code,
        school_terms.commune_code,
        school_terms.legacy_district_code,
        coalesce(digital.has_cashless_tuition, false) as has_cashless_tuition,
        coalesce(digital.has_digital_management, false) as has_digital_management,
        coalesce(pupils.pupils, 0) as pupils
    from {{ ref('int_education__school_terms') }} as school_terms
    left join {{ ref('int_education__digital_latest') }} as digital
        on
            school_terms.school_year = digital.school_year
            and school_terms.term_code = digital.term_code
            and school_terms.school_code = digital.school_code
    left join pupils
        on
            school_terms.school_year = pupils.school_year
            and school_terms.term_code = pupils.term_code
            and school_terms.school_code = pupils.school_code
),

measures as (
    select
        term_months.period,
        schools.commune_code,
        schools.legacy_district_code,
        kpi_ids.kpi_id,
        case kpi_ids.kpi_id
            when 'GD-01' then cast(schools.has_cashless_tuition as integer)
            when 'OPS-SCHOOLS-DIGITAL' then cast(schools.has_digital_management as integer)
            else schools.pupils
        end as numerator
    from schools
    inner join {{ ref('int_education__term_months') }} as term_months
        on
            schools.school_year = term_months.school_year
            and schools.term_code = term_months.term_code
    cross join kpi_ids
),

units as (
    select
        kpi_id,
        period,
        'commune' as admin_level,
        commune_code as admin_code,
        '2025' as structure,
        numerator
    from measures
    where commune_code is not null
    union all
    select
        kpi_id,
        period,
        'district' as admin_level,
        legacy_district_code as admin_code,
        'legacy' as structure,
        numerator
    from measures
    where legacy_district_code is not null and period < '2025-07'
    union all
    select
        kpi_id,
        period,
        'province' as admin_level,
        '82' as admin_code,
        '2025' as structure,
        numerator
    from measures
)

select
    kpi_id,
    period,
    admin_level,
    admin_code,
    structure,
    cast(sum(numerator) as double precision) as numerator,
    cast(count(*) as double precision) as denominator,
    sum(numerator) / count(*) as value  -- noqa: RF04
from units
group by kpi_id, period, admin_level, admin_code, structure
