-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Sheet "ChuyenDoiSo": digital transformation per school; Có/Không decoded to booleans. The
-- "Học bạ số" column exists from HK1 2025-2026 (null before): a lake holding only older
-- exports has no such column, so it reads as null there (optional_column).
{%- set digital = source('education_exports', 'chuyen_doi_so') %}

with source as (
    select * from {{ digital }}
)

select
    ma_truong as school_code,
    phan_mem_quan_ly_nha_truong__ten_he_thong as management_system,
    nen_tang_hoc_tap_truc_tuyen as learning_platform,
    split_part(_source_file, '/', 1) as school_year,
    split_part(_source_file, '/', 2) as term_code,
    _run_id as run_id,
    _source_file as source_file,
    load_date,
    coalesce(phan_mem_quan_ly_nha_truong__co_khong = 'Có', false) as has_digital_management,
    coalesce(thu_hoc_phi_khong_dung_tien_mat = 'Có', false) as has_cashless_tuition,
    case {{ optional_column(digital, 'hoc_ba_so', 'varchar') }}
        when 'Có' then true
        when 'Không' then false
    end as has_digital_records
from source
