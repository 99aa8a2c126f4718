-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Rows the landing gate rejected, per source, table, reason and landing day, read from the
-- quarantine Parquet of the lake (lake/quarantine/<source>/load_date=…/<run_id>.parquet).
-- A whole item (a file) rejected before any table has table_name '_item'.
{{ config(schema='meta', enabled=lake_is_readable()) }}
{%- set quarantine = lake_root() ~ '/quarantine/*/load_date=*/*.parquet' %}

with quarantined as (
    {%- if lake_files_exist(quarantine) %}
        select
            cast(source as varchar) as source_name,
            coalesce(cast(table_name as varchar), '_item') as table_name,
            cast(reason as varchar) as reason,
            cast(load_date as date) as load_date,
            cast(run_id as varchar) as run_id
        from read_parquet('{{ quarantine }}', hive_partitioning = true)
    {%- else %}
        select
            cast(null as varchar) as source_name,
            cast(null as varchar) as table_name,
            cast(null as varchar) as reason,
            cast(null as date) as load_date,
            cast(null as varchar) as run_id
        where 1 = 0
    {%- endif %}
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
