-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One-stop rows the landing gate rejected (lake/quarantine/one_stop/load_date=…/<run_id>.parquet,
-- raw_content the row as JSON): a dossier row (future NgayTiepNhan, NgayKetThucXuLy before
-- NgayTiepNhan) or a fee row (negative Gia). A dossier with such a row is unreadable for the
-- KPIs.
with quarantined as (
    {{ lake_quarantine('one_stop', ['ho_so', 'danh_sach_le_phi']) }}
)

select
    table_name,
    reason,
    run_id,
    load_date,
    {{ json_text('raw_json', 'MaHoSo') }} as dossier_code,
    {{ cast_or_null(json_text('raw_json', 'id'), 'bigint') }} as dossier_row_id,
    {{ cast_or_null(json_text('raw_json', 'updated_at'), 'timestamp') }} as updated_at
from quarantined
