-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Rows the landing gate rejected, per source, table, reason and landing day, read from the
-- quarantine Parquet of the lake (lake/quarantine/<source>/load_date=…/<run_id>.parquet).
-- A whole item (a file) rejected before any table has table_name '_item'.
{{ config(schema='meta') }}

with quarantined as (
    {{ lake_quarantine() }}
)

select
    source_name || '|' || table_name || '|' || reason || '|' || cast(load_date as varchar)
        as quarantine_stat_id,
    source_name,
    table_name,
    reason,
    load_date,
    count(*) as quarantined_rows,
    count(distinct run_id) as runs
from quarantined
group by source_name, table_name, reason, load_date
