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
        try_cast(stt as integer) as line_no,
        try_cast(so_luong as double) as quantity,
        try_cast(don_gia as double) as unit_price_vnd,
        try_cast(thanh_tien_bv as double) as amount_vnd,
        try_cast(t_bhtt as double) as insurance_paid_vnd,
        try_strptime(ngay_yl, '%Y%m%d%H%M') as ordered_at
    from source
)

select * from renamed
