-- One row per school, term and grade (latest landing run wins).
select *
from {{ ref('stg_education_exports__enrolment') }}
qualify row_number() over (
    partition by school_year, term_code, school_code, grade
    order by run_id desc, source_file desc
) = 1
