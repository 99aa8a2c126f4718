-- Processing log (NhatKyXuLy), one row per landed record; re-read whole.
with source as (
    select * from {{ source('one_stop', 'nhat_ky_xu_ly') }}
)

select
    mahoso as dossier_code,
    cast(buocxuly as integer) as step_number,
    nguoixuly as official_key,
    chucdanh as official_title,
    thoidiemxuly as processed_at,
    phongbanxuly as department,
    noidungxuly as action_text,
    cast(trangthai as integer) as status_code,
    ngaybatdau as started_at,
    ngayketthuctheoquydinh as due_at,
    _run_id as run_id,
    load_date
from source
