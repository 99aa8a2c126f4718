-- Sheet "GiaoVien": teaching staff per school, one row per landed record.
with source as (
    select * from {{ source('education_exports', 'giao_vien') }}
)

select
    ma_truong as school_code,
    giao_vien__tong_so as teachers_total,
    giao_vien__nu as teachers_female,
    giao_vien__dat_chuan_tro_len as teachers_qualified,
    split_part(_source_file, '/', 1) as school_year,
    split_part(_source_file, '/', 2) as term_code,
    _run_id as run_id,
    _source_file as source_file,
    load_date
from source
