-- Procedure catalogue (DanhMucTTHC), one row per landed record: the table has no cursor and is
-- re-read whole, landed again only when its content changed (int_public_services__procedures
-- keeps the latest run).
with source as (
    select * from {{ source('one_stop', 'danh_muc_tthc') }}
)

select
    matthc as procedure_code,
    tentthc as procedure_name,
    malinhvuc as field_code,
    tenlinhvuc as field_name,
    capthuchien as authority_level,
    cast(mucdo as integer) as online_level,
    cast(thoihangiaiquyet as integer) as limit_working_days,
    cast(lephi as bigint) as fee_vnd,
    dudieukientoantrinh = 1 as is_full_online_eligible,
    coketqua = 1 as has_result_document,
    congkhaidaydu = 1 as is_content_complete,
    ngaycongbo as first_published_on,
    cast(doituongthuchien as integer) as applicant_type_code,
    _run_id as run_id,
    load_date
from source
