-- Pupils enrolled per school, term, grade and sex (one row per sex: male, female).
with enrolment as (
    select
        enrolment.*,
        school_terms.export_date,
        school_terms.commune_code
    from {{ ref('int_education__enrolment_latest') }} as enrolment
    inner join {{ ref('int_education__school_terms') }} as school_terms
        on
            enrolment.school_year = school_terms.school_year
            and enrolment.term_code = school_terms.term_code
            and enrolment.school_code = school_terms.school_code
)

select
    school_year,
    term_code,
    export_date,
    school_code,
    commune_code,
    grade,
    'male' as sex,
    pupils_male as pupils
from enrolment
union all
select
    school_year,
    term_code,
    export_date,
    school_code,
    commune_code,
    grade,
    'female' as sex,
    pupils_female as pupils
from enrolment
