-- One row per school and term: the school's record in the term's export, the latest landing run
-- winning when a workbook was landed more than once.
select distinct on (school_year, term_code, school_code) *
from {{ ref('stg_education_exports__schools') }}
order by school_year asc, term_code asc, school_code asc, run_id desc, source_file desc
