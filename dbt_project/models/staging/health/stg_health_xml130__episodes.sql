-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- XML1 (TONG_HOP) episodes as landed, one row per landed record, typed, with the code lists
-- MA_LOAI_KCB / MA_LOAI_RV decoded and the residence commune resolved to the current structure
-- (a non-empty MAHUYEN_CU_TRU marks the sent MAXA_CU_TRU as an old code; the sent code is kept).
-- MA_NOI_DEN is optional: a lake whose files never carried it has no such column, which then
-- reads as null (optional_column).
{%- set xml1 = source('health_xml130', 'xml1') %}

with source as (
    select * from {{ xml1 }}
),

renamed as (
    select
        ma_cskcb as facility_code,
        ma_lk as episode_id,
        ma_bn as patient_key,
        so_cccd as citizen_id_key,
        ma_the_bhyt as insurance_card_key,
        gioi_tinh as sex_code,
        matinh_cu_tru as residence_province_code,
        maxa_cu_tru as residence_commune_code,
        ma_benh_chinh as primary_icd10,
        ma_loai_kcb as visit_type_code,
        ma_loai_rv as discharge_type_code,
        _run_id as run_id,
        _source_file as source_file,
        load_date,
        {{ cast_or_null('ngay_sinh', 'integer') }} as birth_year,
        nullif(trim(mahuyen_cu_tru), '') as residence_district_code,
        nullif(
            trim({{ optional_column(xml1, 'ma_noi_den', 'varchar') }}), ''
        ) as referred_to_facility_code,
        {{ parse_compact_timestamp('ngay_vao') }} as admitted_at,
        {{ parse_compact_timestamp('ngay_ra') }} as discharged_at,
        {{ cast_or_null('so_ngay_dtri', 'integer') }} as treatment_days,
        {{ cast_or_null('t_tongchi_bv', 'double precision') }} as total_cost_vnd,
        {{ cast_or_null('t_bhtt', 'double precision') }} as insurance_paid_vnd,
        coalesce({{ cast_or_null('t_bncct', 'double precision') }}, 0)
        + coalesce({{ cast_or_null('t_bntt', 'double precision') }}, 0) as patient_paid_vnd,
        {{ parse_compact_date('_file_created_on') }} as file_date
    from source
)

select
    renamed.*,
    case renamed.visit_type_code
        when '01' then 'Khám bệnh (outpatient examination)'
        when '02' then 'Điều trị ngoại trú (outpatient treatment)'
        when '03' then 'Điều trị nội trú (inpatient treatment)'
        when '04' then 'Điều trị nội trú ban ngày (day inpatient treatment)'
        when '05' then 'Ngoại trú bệnh mạn tính, khám và lĩnh thuốc (chronic outpatient)'
        when '06' then 'Điều trị lưu tại trạm y tế (observation at a commune station)'
        when '07' then 'Nhận thuốc theo hẹn (medicine by appointment)'
        when '08' then 'Ngoại trú bệnh mạn tính, có khám và dịch vụ (chronic outpatient care)'
        when '09' then 'Nội trú dưới 4 giờ, cấp cứu (inpatient under 4 hours, emergency)'
    end as visit_type_name,
    case renamed.discharge_type_code
        when '1' then 'Ra viện (discharged)'
        when '2' then 'Chuyển tuyến theo yêu cầu chuyên môn (referred on clinical grounds)'
        when '3' then 'Trốn viện (left without permission)'
        when '4' then 'Xin ra viện (discharged on request)'
        when '5' then 'Chuyển tuyến theo yêu cầu người bệnh (referred on request)'
    end as discharge_type_name,
    renamed.discharge_type_code in ('2', '5') as is_referred,
    {{ resolve_admin_code(
        'renamed.residence_commune_code',
        'cast(renamed.admitted_at as date)',
        'renamed.residence_district_code'
    ) }} as current_commune_code
from renamed
