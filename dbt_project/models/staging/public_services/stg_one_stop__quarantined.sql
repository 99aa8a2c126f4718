-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One-stop rows the landing gate rejected (lake/quarantine/one_stop/load_date=…/<run_id>.parquet,
-- raw_content the row as JSON): a dossier row (future NgayTiepNhan, NgayKetThucXuLy before
-- NgayTiepNhan) or a fee row (negative Gia). A dossier with such a row is unreadable for the
-- KPIs. Only DuckDB reads the lake; elsewhere (and without quarantine) an empty typed set.
{%- set quarantine = lake_root() ~ '/quarantine/one_stop/load_date=*/*.parquet' %}

with quarantined as (
    {%- if lake_files_exist(quarantine) %}
        select
            cast(table_name as varchar) as table_name,
            cast(reason as varchar) as reason,
            cast(run_id as varchar) as run_id,
            cast(load_date as date) as load_date,
            decode(raw_content) as raw_json
        from read_parquet('{{ quarantine }}', hive_partitioning = true)
        where table_name in ('ho_so', 'danh_sach_le_phi')
    {%- else %}
        select
            cast(null as varchar) as table_name,
            cast(null as varchar) as reason,
            cast(null as varchar) as run_id,
            cast(null as date) as load_date,
            cast(null as varchar) as raw_json
        where 1 = 0
    {%- endif %}
)

select
    table_name,
    reason,
    run_id,
    load_date,
    json_extract_string(raw_json, '$.MaHoSo') as dossier_code,
    try_cast(json_extract_string(raw_json, '$.id') as bigint) as dossier_row_id,
    try_cast(json_extract_string(raw_json, '$.updated_at') as timestamp) as updated_at
from quarantined
