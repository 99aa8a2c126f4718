-- Supplement requests (YeuCauBoSung), one row per landed record; re-read whole.
with source as (
    select * from {{ source('one_stop', 'yeu_cau_bo_sung') }}
)

select
    mahoso as dossier_code,
    cast(lanyeucau as integer) as request_number,
    ngayyeucau as requested_at,
    noidungyeucau as request_text,
    ngaybosung as supplemented_at,
    _run_id as run_id,
    load_date
from source
