-- Results issued (KetQuaXuLy), one row per landed record; re-read whole.
with source as (
    select * from {{ source('one_stop', 'ket_qua_xu_ly') }}
)

select
    mahoso as dossier_code,
    sokyhieu as document_number,
    ngayky as signed_at,
    labandientu = 1 as is_electronic,
    duongdantep as file_path,
    _run_id as run_id,
    load_date
from source
