-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- XML13 referral certificates (giấy chuyển tuyến), one row per landed record. The 3176 layout
-- renamed MA_NOI_DI / MA_NOI_DEN to MA_CSKCB_DI / MA_CSKCB_DEN; the landing contract maps the
-- old names onto the new ones, so both layouts arrive in the same columns.
with source as (
    select * from {{ source('health_xml130', 'xml13') }}
)

select
    _facility_code as facility_code,
    ma_lk as episode_id,
    so_chuyentuyen as referral_number,
    giay_chuyen_tuyen as referral_certificate_id,
    ma_cskcb_di as referred_from_facility_code,
    ma_cskcb_den as referred_to_facility_code,
    ma_benh_chinh as primary_icd10,
    ma_loai_rv as discharge_type_code,
    ma_lydo_ct as referral_reason_code,
    phuongtien_vc as transport,
    _run_id as run_id,
    _source_file as source_file,
    load_date,
    {{ parse_compact_timestamp('ngay_vao') }} as admitted_at,
    {{ parse_compact_timestamp('ngay_ra') }} as discharged_at
from source
