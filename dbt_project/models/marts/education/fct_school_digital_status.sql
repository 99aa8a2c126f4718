-- Digital status of each school per term: digital management, learning platform, cashless
-- tuition, digital school records, with teachers, classes and pupils of the term.
with pupils as (
    select
        school_year,
        term_code,
        school_code,
        sum(pupils_total) as pupils
    from {{ ref('int_education__enrolment_latest') }}
    group by school_year, term_code, school_code
)

select
    school_terms.school_year,
    school_terms.term_code,
    school_terms.export_date,
    school_terms.school_code,
    school_terms.commune_code,
    school_terms.level_code,
    coalesce(digital.has_digital_management, false) as has_digital_management,
    digital.management_system,
    digital.learning_platform,
    coalesce(digital.has_cashless_tuition, false) as has_cashless_tuition,
    digital.has_digital_records,
    digital.teachers_total,
    digital.teachers_female,
    digital.teachers_qualified,
    digital.classes,
    pupils.pupils
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
