-- Sheet "HocSinh": pupils per school and grade with the split by sex, one row per landed record.
with source as (
    select * from {{ source('education_exports', 'hoc_sinh') }}
)

select
    ma_truong as school_code,
    khoi_lop as grade,
    so_hoc_sinh__tong_so as pupils_total,
    so_hoc_sinh__nam as pupils_male,
    so_hoc_sinh__nu as pupils_female,
    split_part(_source_file, '/', 1) as school_year,
    split_part(_source_file, '/', 2) as term_code,
    _run_id as run_id,
    _source_file as source_file,
    load_date
from source
