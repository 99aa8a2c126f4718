-- One row per school and term of the digital-transformation sheet (latest landing run wins),
-- with the term's teachers and classes alongside.
with digital as (
    select distinct on (school_year, term_code, school_code) *
    from {{ ref('stg_education_exports__digital') }}
    order by school_year asc, term_code asc, school_code asc, run_id desc, source_file desc
),

teachers as (
    select distinct on (school_year, term_code, school_code) *
    from {{ ref('stg_education_exports__teachers') }}
    order by school_year asc, term_code asc, school_code asc, run_id desc, source_file desc
),

-- A workbook landed again replaces its earlier landing whole: a grade row the corrected file
-- dropped no longer counts.
latest_class_runs as (
    select
        school_year,
        term_code,
        school_code,
        source_file,
        max(run_id) as run_id
    from {{ ref('stg_education_exports__classes') }}
    group by school_year, term_code, school_code, source_file
),

latest_class_rows as (
    select class_rows.*
    from {{ ref('stg_education_exports__classes') }} as class_rows
    inner join latest_class_runs
        on
            class_rows.school_year = latest_class_runs.school_year
            and class_rows.term_code = latest_class_runs.term_code
            and class_rows.school_code = latest_class_runs.school_code
            and class_rows.source_file = latest_class_runs.source_file
            and class_rows.run_id = latest_class_runs.run_id
),

latest_classes as (
    select distinct on (school_year, term_code, school_code, grade) *
    from latest_class_rows
    order by
        school_year asc, term_code asc, school_code asc, grade asc, run_id desc, source_file desc
),

classes as (
    select
        school_year,
        term_code,
        school_code,
        sum(classes) as classes
    from latest_classes
    group by school_year, term_code, school_code
)

select
    digital.school_year,
    digital.term_code,
    digital.school_code,
    digital.has_digital_management,
    digital.management_system,
    digital.learning_platform,
    digital.has_cashless_tuition,
    digital.has_digital_records,
    teachers.teachers_total,
    teachers.teachers_female,
    teachers.teachers_qualified,
    classes.classes,
    digital.run_id,
    digital.source_file
from digital
left join teachers
    on
        digital.school_year = teachers.school_year
        and digital.term_code = teachers.term_code
        and digital.school_code = teachers.school_code
left join classes
    on
        digital.school_year = classes.school_year
        and digital.term_code = classes.term_code
        and digital.school_code = classes.school_code
