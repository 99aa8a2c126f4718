-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- The statistics office's monthly indicator feed: one row per period, unit and indicator as
-- published, renamed and decoded (cap huyen/xa/tinh → district/commune/province); the commune
-- code is resolved to the current structure (a code sent for a month before July 2025 is read
-- as an old code).
with source as (
    select * from {{ source('statistics_feed', 'chi_tieu') }}
),

renamed as (
    select
        ky_bao_cao as period,
        cap as level_code,
        ma_tinh as province_code,
        nullif(trim(ma_huyen), '') as district_code,
        nullif(trim(ma_xa), '') as sent_commune_code,
        ten_don_vi as unit_name,
        ma_chi_tieu as indicator_code,
        ten_chi_tieu as indicator_name,
        don_vi_tinh as measure_unit,
        ngay_cong_bo as published_on,
        _run_id as run_id,
        _source_file as source_file,
        load_date,
        case cap
            when 'tinh' then 'province'
            when 'huyen' then 'district'
            when 'xa' then 'commune'
        end as admin_level,
        cast(tu_so as double precision) as numerator,
        cast(mau_so as double precision) as denominator,
        cast(ty_le as double precision) / 100 as published_rate,
        cast(ky_bao_cao || '-01' as date) as period_start
    from source
)

select
    *,
    {{ resolve_admin_code('sent_commune_code', 'period_start', 'district_code') }} as commune_code
from renamed
