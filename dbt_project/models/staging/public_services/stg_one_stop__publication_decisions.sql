-- Publication decisions (QuyetDinhCongBo), one row per landed record; re-read whole.
with source as (
    select * from {{ source('one_stop', 'quyet_dinh_cong_bo') }}
)

select
    macongbo as publication_code,
    matthc as procedure_code,
    soquyetdinh as decision_number,
    ngayquyetdinh as decided_on,
    ngayhieulucvanban as effective_on,
    _run_id as run_id,
    load_date
from source
