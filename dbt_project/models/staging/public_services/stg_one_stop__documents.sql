-- Submitted documents (TaiLieuNop), one row per landed record; re-read whole.
with source as (
    select * from {{ source('one_stop', 'tai_lieu_nop') }}
)

select
    mahoso as dossier_code,
    cast(stt as integer) as document_number,
    tentepdinhkem as file_name,
    duocsohoa = 1 as is_digitised,
    duoctaisudung = 1 as is_reused,
    duoclaytukhodmqg = 1 as is_from_national_store,
    _run_id as run_id,
    load_date
from source
