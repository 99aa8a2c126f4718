-- Citizen petitions (PhanAnhKienNghi), one row per landed record; re-read whole.
with source as (
    select * from {{ source('one_stop', 'phan_anh_kien_nghi') }}
)

select
    mapakn as petition_code,
    mahoso as dossier_code,
    ngaytiepnhan as received_at,
    cast(hinhthucxuly as integer) as outcome_code,
    case cast(hinhthucxuly as integer)
        when 1 then 'handled'
        when 2 then 'refused'
        when 3 then 'supplement_requested'
    end as outcome_name,
    ngayxuly as handled_at,
    case hailong when 1 then true when 0 then false end as is_satisfied,
    coalesce(laplai = 1, false) as is_repeated,
    matinh as province_code_sent,
    nullif(trim(mahuyen), '') as district_code_sent,
    maxa as commune_code_sent,
    _run_id as run_id,
    load_date
from source
