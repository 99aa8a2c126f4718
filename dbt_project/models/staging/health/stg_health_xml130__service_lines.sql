-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- XML3 line items (technical services, examinations, bed days and medical supplies), renamed
-- to English and typed; one row per landed record. A supply line carries MA_VAT_TU (and in
-- MA_DICH_VU the surgery it was used in, if any); a service line only MA_DICH_VU. A 4210-era
-- DON_GIA arrives as DON_GIA_BV (the landing contract's rename).
with source as (
    select * from {{ source('health_xml130', 'xml3') }}
),

renamed as (
    select
        _facility_code as facility_code,
        ma_lk as episode_id,
        ma_dich_vu as service_code,
        ma_vat_tu as supply_code,
        ten_dich_vu as service_name,
        ten_vat_tu as supply_name,
        don_vi_tinh as unit_name,
        ma_khoa as department_code,
        _run_id as run_id,
        _source_file as source_file,
        load_date,
        ma_vat_tu is not null as is_supply,
        {{ cast_or_null('stt', 'integer') }} as line_no,
        {{ cast_or_null('ma_nhom', 'integer') }} as service_group_code,
        {{ cast_or_null('pham_vi', 'integer') }} as coverage_scope_code,
        {{ cast_or_null('so_luong', 'double precision') }} as quantity,
        {{ cast_or_null('don_gia_bv', 'double precision') }} as unit_price_vnd,
        {{ cast_or_null('don_gia_bh', 'double precision') }} as insurance_unit_price_vnd,
        {{ cast_or_null('thanh_tien_bv', 'double precision') }} as amount_vnd,
        {{ cast_or_null('thanh_tien_bh', 'double precision') }} as insured_amount_vnd,
        {{ cast_or_null('muc_huong', 'integer') }} as benefit_level_pct,
        {{ cast_or_null('t_bhtt', 'double precision') }} as insurance_paid_vnd,
        {{ cast_or_null('t_bncct', 'double precision') }} as patient_copay_vnd,
        {{ cast_or_null('t_bntt', 'double precision') }} as patient_self_pay_vnd,
        {{ cast_or_null('t_nguonkhac', 'double precision') }} as other_sources_vnd,
        {{ parse_compact_timestamp('ngay_yl') }} as ordered_at,
        {{ parse_compact_timestamp('ngay_th_yl') }} as performed_at,
        {{ parse_compact_timestamp('ngay_kq') }} as resulted_at
    from source
)

select * from renamed
