-- Dossiers (HoSo), one row per landed record: the incremental cursor (updated_at) re-reads a
-- dossier each time it changes, and MaHoSo is not unique (a row can be inserted twice).
-- Dates were typed at landing from yyyyMMddHHmmss text; code lists are decoded here.
with source as (
    select * from {{ source('one_stop', 'ho_so') }}
)

select
    cast(id as bigint) as dossier_row_id,
    mahoso as dossier_code,
    matthc as procedure_code,
    tentthc as procedure_name,
    malinhvuc as field_code,
    tenlinhvuc as field_name,
    cast(kenhthuchien as integer) as channel_code,
    case cast(kenhthuchien as integer)
        when 1 then 'in_person'
        when 2 then 'online'
        when 3 then 'postal'
    end as channel_name,
    chuhoso as holder_key,
    sogiaytochuhoso as holder_document_key,
    cast(loaidoituong as integer) as applicant_type_code,
    case cast(loaidoituong as integer)
        when 1 then 'citizen'
        when 2 then 'business'
        when 3 then 'state_agency'
        when 4 then 'organisation'
    end as applicant_type_name,
    sodienthoai as phone_key,
    trichyeuhoso as abstract,
    ngaynophoso as submitted_at,
    ngaytiepnhan as received_at,
    ngayhentra as due_at,
    ngayketthucxuly as processing_ended_at,
    ngaytra as returned_at,
    ngaytuchoi as refused_at,
    cast(trangthaihoso as integer) as status_code,
    case cast(trangthaihoso as integer)
        when 1 then 'newly_registered'
        when 2 then 'received'
        when 3 then 'not_received'
        when 4 then 'in_process'
        when 5 then 'supplement_requested'
        when 6 then 'financial_obligation_requested'
        when 7 then 'withdrawn'
        when 8 then 'stopped'
        when 9 then 'processed'
        when 10 then 'result_returned'
    end as status_name,
    donvixuly as handling_unit,
    cast(noinophoso as integer) as submission_place_code,
    hosocothanhphansohoa = 1 as is_flagged_digitised,
    taikhoanduocxacthucvoivneid = 1 as is_vneid_account,
    cast(duocthanhtoantructuyen as integer) as online_payment_code,
    matinh as province_code_sent,
    nullif(trim(mahuyen), '') as district_code_sent,
    maxa as commune_code_sent,
    updated_at,
    _run_id as run_id,
    load_date
from source
