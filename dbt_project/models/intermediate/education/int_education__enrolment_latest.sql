-- One row per school, term and grade. A workbook landed again replaces its earlier landing
-- whole (only the rows of each file's latest run count: a grade row the corrected file dropped
-- is gone), then the latest run wins where two files carry the same grade.
with latest_runs as (
    select
        school_year,
        term_code,
        school_code,
        source_file,
        max(run_id) as run_id
    from {{ ref('stg_education_exports__enrolment') }}
    group by school_year, term_code, school_code, source_file
),

latest_rows as (
    select enrolment.*
    from {{ ref('stg_education_exports__enrolment') }} as enrolment
    inner join latest_runs
        on
            enrolment.school_year = latest_runs.school_year
            and enrolment.term_code = latest_runs.term_code
            and enrolment.school_code = latest_runs.school_code
            and enrolment.source_file = latest_runs.source_file
            and enrolment.run_id = latest_runs.run_id
)

select distinct on (school_year, term_code, school_code, grade) *
from latest_rows
order by school_year asc, term_code asc, school_code asc, grade asc, run_id desc, source_file desc
