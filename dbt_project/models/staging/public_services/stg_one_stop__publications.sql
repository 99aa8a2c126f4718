-- Procedures made public on the national database (CongKhaiTTHC), one row per landed record;
-- re-read whole. is_content_complete: every content element is listed.
with source as (
    select * from {{ source('one_stop', 'cong_khai_tthc') }}
)

select
    macongbo as publication_code,
    matthc as procedure_code,
    ngaycongkhai as made_public_on,
    cotenthutuc = 1 as has_name,
    cotrinhtu = 1 as has_steps,
    cocachthuc = 1 as has_channels,
    cothanhphanhoso = 1 as has_documents,
    cothoihan = 1 as has_time_limit,
    codoituong = 1 as has_applicant,
    cocoquan = 1 as has_authority,
    coalesce(
        cotenthutuc = 1
        and cotrinhtu = 1
        and cocachthuc = 1
        and cothanhphanhoso = 1
        and cothoihan = 1
        and codoituong = 1
        and cocoquan = 1,
        false
    ) as is_content_complete,
    _run_id as run_id,
    load_date
from source
