-- sqlfluff:templater:jinja:load_macros_from_path:macros
with source as (
    select * from {{ source('health_xml130', 'xml2') }}
),

renamed as (
    select
        _facility_code as facility_code,
        ma_lk as episode_id,
        ma_thuoc as drug_code,
        ten_thuoc as drug_name,
        _run_id as run_id,
        _source_file as source_file,
        load_date,
        {{ cast_or_null('stt', 'integer') }} as line_no,
        {{ cast_or_null('so_luong', 'double precision') }} as quantity,
        {{ cast_or_null('don_gia', 'double precision') }} as unit_price_vnd,
        {{ cast_or_null('thanh_tien_bv', 'double precision') }} as amount_vnd,
        {{ cast_or_null('t_bhtt', 'double precision') }} as insurance_paid_vnd,
        {{ parse_compact_timestamp('ngay_yl') }} as ordered_at
    from source
)

select * from renamed
