-- One row per school and term: the school's record in the term's export, the latest landing run
-- winning when a workbook was landed more than once.
select *
from {{ ref('stg_education_exports__schools') }}
qualify row_number() over (
    partition by school_year, term_code, school_code
    order by run_id desc, source_file desc
) = 1
