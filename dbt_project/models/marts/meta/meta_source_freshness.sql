-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Freshness of every declared source table, as of the build: the registry snapshot
-- (lake/_registry/sources.parquet, iochub.lake_meta.write_registry_snapshot) joined with the
-- manifests of the committed extract runs (lake/_manifests/<source>/<run_id>.json).
-- A committed manifest is a successful run (rows in = landed + quarantined held). A source is
-- stale when its last successful run finished more than freshness_hours before the build, or
-- it never ran. The last run's counts are per table (0 when the run saw no rows of it).
-- A source is failing when its last attempt failed (lake/_failures, connectors.landing
-- .record_failure): the wall shows the error while the last good data stays published.
{{ config(schema='meta') }}

with registry_snapshot as (
    {{ lake_registry() }}
),

registry as (
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
    from registry_snapshot
),

runs as (
    {{ lake_runs() }}
),

run_tables as (
    {{ lake_run_tables() }}
),

last_runs as (
    select
        source_name,
        run_id,
        finished_at,
        count(*) over (partition by source_name) as runs,
        row_number() over (partition by source_name order by finished_at desc) as run_rank
    from runs
),

failures as (
    {{ lake_failures() }}
),

failures_since_success as (
    select distinct on (failures.source_name)
        failures.source_name,
        failures.failed_at as last_failure_at,
        failures.error_type || ': ' || failures.error as last_error,
        min(failures.failed_at) over (partition by failures.source_name) as first_failure_at,
        count(*) over (partition by failures.source_name) as failures_since_success
    from failures
    left join last_runs
        on failures.source_name = last_runs.source_name and last_runs.run_rank = 1
    where last_runs.finished_at is null or failures.failed_at > last_runs.finished_at
    order by failures.source_name asc, failures.failed_at desc
),

table_landings as (
    select
        runs.source_name,
        run_tables.table_name,
        max(runs.finished_at) as last_rows_landed_at,
        sum(run_tables.rows_landed) as rows_landed_total
    from runs
    inner join run_tables
        on runs.run_id = run_tables.run_id and runs.source_name = run_tables.source_name
    where run_tables.rows_landed > 0
    group by runs.source_name, run_tables.table_name
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
    coalesce(last_run_tables.rows_in, 0) as last_run_rows_in,
    coalesce(last_run_tables.rows_landed, 0) as last_run_rows_landed,
    coalesce(last_run_tables.rows_quarantined, 0) as last_run_rows_quarantined,
    coalesce(last_run_tables.landing_expectations, 0) as last_run_landing_expectations,
    coalesce(table_landings.rows_landed_total, 0) as rows_landed_total,
    build.built_at,
    -- numeric(18, 6), not numeric: DuckDB's numeric is decimal(18, 3), and rounding to 3 places
    -- then to 2 shows 0.0145 h as 0.02 (PostgreSQL: 0.01)
    round(
        cast(
            {{ seconds_between('last_runs.finished_at', 'build.built_at') }} / 3600.0
            as numeric(18, 6)
        ),
        2
    ) as hours_since_success,
    coalesce(
        {{ seconds_between('last_runs.finished_at', 'build.built_at') }}
        > registry.freshness_hours * 3600,
        true
    ) as is_stale,
    failures_since_success.first_failure_at,
    failures_since_success.last_failure_at,
    failures_since_success.last_error,
    coalesce(failures_since_success.failures_since_success, 0) as failures_since_success,
    failures_since_success.source_name is not null as is_failing
from registry
cross join build
left join last_runs
    on
        registry.source_name = last_runs.source_name
        and last_runs.run_rank = 1
left join run_tables as last_run_tables
    on
        last_runs.run_id = last_run_tables.run_id
        and registry.source_name = last_run_tables.source_name
        and registry.table_name = last_run_tables.table_name
left join failures_since_success
    on registry.source_name = failures_since_success.source_name
left join table_landings
    on
        registry.source_name = table_landings.source_name
        and registry.table_name = table_landings.table_name
