-- One row per school, term and grade (latest landing run wins).
select distinct on (school_year, term_code, school_code, grade) *
from {{ ref('stg_education_exports__enrolment') }}
order by school_year asc, term_code asc, school_code asc, grade asc, run_id desc, source_file desc
