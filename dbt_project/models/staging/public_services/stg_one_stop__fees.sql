-- Fees (DanhSachLePhi), one row per landed record; re-read whole. A negative amount is
-- quarantined at landing (stg_one_stop__quarantined).
with source as (
    select * from {{ source('one_stop', 'danh_sach_le_phi') }}
)

select
    mahoso as dossier_code,
    cast(stt as integer) as fee_number,
    tenphilephi as fee_name,
    cast(gia as bigint) as amount_vnd,
    dathanhtoantructuyen = 1 as is_paid_online,
    _run_id as run_id,
    load_date
from source
