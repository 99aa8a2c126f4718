-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- XML4 paraclinical results (one indicator of a lab test, imaging or function test per row),
-- renamed to English and typed; one row per landed record. The value stays text: results are
-- numbers, titres and words alike, with their unit beside them.
with source as (
    select * from {{ source('health_xml130', 'xml4') }}
),

renamed as (
    select
        _facility_code as facility_code,
        ma_lk as episode_id,
        ma_dich_vu as service_code,
        ma_chi_so as indicator_code,
        ten_chi_so as indicator_name,
        gia_tri as result_value,
        don_vi_do as unit_of_measure,
        mo_ta as result_description,
        ket_luan as conclusion,
        ma_bs_doc_kq as reader_code,
        _run_id as run_id,
        _source_file as source_file,
        load_date,
        {{ cast_or_null('stt', 'integer') }} as line_no,
        {{ parse_compact_timestamp('ngay_kq') }} as resulted_at
    from source
)

select * from renamed
