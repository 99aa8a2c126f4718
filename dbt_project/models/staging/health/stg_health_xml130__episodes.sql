with source as (
    select * from {{ source('health_xml130', 'xml1') }}
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
        try_cast(ngay_sinh as integer) as birth_year,
        nullif(mahuyen_cu_tru, '') as residence_district_code,
        try_strptime(ngay_vao, '%Y%m%d%H%M') as admitted_at,
        try_strptime(ngay_ra, '%Y%m%d%H%M') as discharged_at,
        try_cast(so_ngay_dtri as integer) as treatment_days,
        try_cast(t_tongchi_bv as double) as total_cost_vnd,
        try_cast(t_bhtt as double) as insurance_paid_vnd,
        coalesce(try_cast(t_bncct as double), 0)
        + coalesce(try_cast(t_bntt as double), 0) as patient_paid_vnd
    from source
)

select * from renamed
