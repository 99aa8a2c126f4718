-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Freshness of every declared source table, as of the build: the registry snapshot
-- (lake/_registry/sources.parquet, iochub.lake_meta.write_registry_snapshot) joined with the
-- manifests of the committed extract runs (lake/_manifests/<source>/<run_id>.json).
-- A committed manifest is a successful run (rows in = landed + quarantined held). A source is
-- stale when its last successful run finished more than freshness_hours before the build, or
-- it never ran. The last run's counts are per table (0 when the run saw no rows of it).
{{ config(schema='meta', enabled=lake_is_readable()) }}
{%- set manifests = lake_root() ~ '/_manifests/*/*.json' %}
{%- set registry = lake_root() ~ '/_registry/sources.parquet' %}

with registry as (
    {%- if lake_files_exist(registry) %}
        select
            cast(source_name as varchar) as source_name,
            cast(table_name as varchar) as table_name,
            cast(sector as varchar) as sector,
            cast(source_title as varchar) as source_title,
            cast(table_title as varchar) as table_title,
            cast(owner as varchar) as owner_agency,
            cast(kind as varchar) as kind,
            cast(schedule as varchar) as schedule,
            cast(freshness_hours as integer) as freshness_hours
        from read_parquet('{{ registry }}')
    {%- else %}
        select
            cast(null as varchar) as source_name,
            cast(null as varchar) as table_name,
            cast(null as varchar) as sector,
            cast(null as varchar) as source_title,
            cast(null as varchar) as table_title,
            cast(null as varchar) as owner_agency,
            cast(null as varchar) as kind,
            cast(null as varchar) as schedule,
            cast(null as integer) as freshness_hours
        where 1 = 0
    {%- endif %}
),

runs as (
    {%- if lake_files_exist(manifests) %}
        select
            source as source_name,
            run_id,
            cast(load_date as date) as load_date,
            cast(timezone('UTC', cast(finished_at as timestamptz)) as timestamp) as finished_at,
            rows_in,
            rows_landed,
            rows_quarantined
        from read_json(
            '{{ manifests }}',
            columns = {
                source: 'varchar',
                run_id: 'varchar',
                load_date: 'varchar',
                finished_at: 'varchar',
                rows_in: 'map(varchar, bigint)',
                rows_landed: 'map(varchar, bigint)',
                rows_quarantined: 'map(varchar, bigint)'
            }
        )
    {%- else %}
        select
            cast(null as varchar) as source_name,
            cast(null as varchar) as run_id,
            cast(null as date) as load_date,
            cast(null as timestamp) as finished_at,
            cast(null as map (varchar, bigint)) as rows_in,
            cast(null as map (varchar, bigint)) as rows_landed,
            cast(null as map (varchar, bigint)) as rows_quarantined
        where 1 = 0
    {%- endif %}
),

last_runs as (
    select
        source_name,
        run_id,
        finished_at,
        rows_in,
        rows_landed,
        rows_quarantined,
        count(*) over (partition by source_name) as runs,
        row_number() over (partition by source_name order by finished_at desc) as run_rank
    from runs
),

table_landings as (
    select
        runs.source_name,
        registry.table_name,
        max(runs.finished_at) as last_rows_landed_at,
        sum(runs.rows_landed[registry.table_name]) as rows_landed_total
    from runs
    inner join registry
        on runs.source_name = registry.source_name
    where coalesce(runs.rows_landed[registry.table_name], 0) > 0
    group by runs.source_name, registry.table_name
),

build as (
    select cast(timezone('UTC', current_timestamp) as timestamp) as built_at
)

select
    registry.source_name || '|' || registry.table_name as source_table_id,
    registry.source_name,
    registry.table_name,
    registry.sector,
    registry.source_title,
    registry.table_title,
    registry.owner_agency,
    registry.kind,
    registry.schedule,
    registry.freshness_hours,
    coalesce(last_runs.runs, 0) as runs,
    last_runs.run_id as last_run_id,
    last_runs.finished_at as last_success_at,
    table_landings.last_rows_landed_at,
    coalesce(last_runs.rows_in[registry.table_name], 0) as last_run_rows_in,
    coalesce(last_runs.rows_landed[registry.table_name], 0) as last_run_rows_landed,
    coalesce(last_runs.rows_quarantined[registry.table_name], 0) as last_run_rows_quarantined,
    coalesce(table_landings.rows_landed_total, 0) as rows_landed_total,
    build.built_at,
    round(
        (epoch(build.built_at) - epoch(last_runs.finished_at)) / 3600.0, 2
    ) as hours_since_success,
    coalesce(
        epoch(build.built_at) - epoch(last_runs.finished_at)
        > registry.freshness_hours * 3600,
        true
    ) as is_stale
from registry
cross join build
left join last_runs
    on
        registry.source_name = last_runs.source_name
        and last_runs.run_rank = 1
left join table_landings
    on
        registry.source_name = table_landings.source_name
        and registry.table_name = table_landings.table_name
