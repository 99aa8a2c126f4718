-- Sheet "LopHoc": classes per school and grade, one row per landed record.
with source as (
    select * from {{ source('education_exports', 'lop_hoc') }}
)

select
    ma_truong as school_code,
    khoi_lop as grade,
    so_lop as classes,
    split_part(_source_file, '/', 1) as school_year,
    split_part(_source_file, '/', 2) as term_code,
    _run_id as run_id,
    _source_file as source_file,
    load_date
from source
