{#
    The lake's own records as row sets: quarantined rows, the committed extract runs (from the
    manifests) and the registry snapshot. On DuckDB the models read the lake's files directly;
    PostgreSQL cannot, so iochub.lake_meta.load_lake_into_postgres copies them into schema
    `_lake` (tables quarantine, runs, run_tables, failures, registry) and the models read those. Each
    macro gives the same columns on every adapter.
#}

{#- Quarantined rows (of one source and some of its tables, or all): source_name, table_name
    ('_item' for a whole rejected item), reason, run_id, load_date and the rejected row as JSON
    text (raw_json). -#}
{% macro lake_quarantine(source_name=none, tables=none) -%}
    {{ return(adapter.dispatch('lake_quarantine', 'iochub')(source_name, tables)) }}
{%- endmacro %}

{#- The where clause of lake_quarantine's source and tables filter. -#}
{% macro lake_quarantine_filter(source_name, tables, source_column) -%}
    where true
    {%- if source_name %}
        and {{ source_column }} = '{{ source_name }}'
    {%- endif %}
    {%- if tables %}
        and table_name in ('{{ tables | join("', '") }}')
    {%- endif %}
{%- endmacro %}

{% macro duckdb__lake_quarantine(source_name, tables) -%}
    {%- set folder = lake_root() ~ '/quarantine/' ~ (source_name or '*') %}
    {%- set files = folder ~ '/load_date=*/*.parquet' %}
    {%- if lake_files_exist(files) %}
        select
            cast(source as varchar) as source_name,
            coalesce(cast(table_name as varchar), '_item') as table_name,
            cast(reason as varchar) as reason,
            cast(run_id as varchar) as run_id,
            cast(load_date as date) as load_date,
            decode(raw_content) as raw_json
        from read_parquet('{{ files }}', hive_partitioning = true, union_by_name = true)
        {{ lake_quarantine_filter(none, tables, 'source') }}
    {%- else %}
        {{ empty_quarantine() }}
    {%- endif %}
{%- endmacro %}

{% macro default__lake_quarantine(source_name, tables) -%}
    select
        source as source_name,
        coalesce(table_name, '_item') as table_name,
        reason,
        run_id,
        cast(load_date as date) as load_date,
        raw_json
    from _lake.quarantine
    {{ lake_quarantine_filter(source_name, tables, 'source') }}
{%- endmacro %}

{% macro empty_quarantine() -%}
    select
        cast(null as varchar) as source_name,
        cast(null as varchar) as table_name,
        cast(null as varchar) as reason,
        cast(null as varchar) as run_id,
        cast(null as date) as load_date,
        cast(null as varchar) as raw_json
    where 1 = 0
{%- endmacro %}

{#- Committed extract runs, one row each: source_name, run_id, load_date, finished_at (UTC); of one
    source only with `source_name` (on DuckDB only its manifests' folder is read). -#}
{% macro lake_runs(source_name=none) -%}
    {{ return(adapter.dispatch('lake_runs', 'iochub')(source_name)) }}
{%- endmacro %}

{% macro duckdb__lake_runs(source_name) -%}
    {%- set files = lake_root() ~ '/_manifests/' ~ (source_name or '*') ~ '/*.json' %}
    {%- if lake_files_exist(files) %}
        select
            source as source_name,
            run_id,
            cast(load_date as date) as load_date,
            cast(timezone('UTC', cast(finished_at as timestamptz)) as timestamp) as finished_at
        from read_json(
            '{{ files }}',
            columns = {
                source: 'varchar', run_id: 'varchar', load_date: 'varchar', finished_at: 'varchar'
            }
        )
    {%- else %}
        select
            cast(null as varchar) as source_name,
            cast(null as varchar) as run_id,
            cast(null as date) as load_date,
            cast(null as timestamp) as finished_at
        where 1 = 0
    {%- endif %}
{%- endmacro %}

{% macro default__lake_runs(source_name) -%}
    select source_name, run_id, load_date, finished_at from _lake.runs
    {%- if source_name %}
        where source_name = '{{ source_name }}'
    {%- endif %}
{%- endmacro %}

{#- Rows per committed run and table (tables the run saw rows of): source_name, run_id,
    table_name, rows_in, rows_landed, rows_quarantined, landing_expectations (expectations of
    the landing-batch suite run on its parts). -#}
{% macro lake_run_tables() -%}
    {{ return(adapter.dispatch('lake_run_tables', 'iochub')()) }}
{%- endmacro %}

{% macro duckdb__lake_run_tables() -%}
    {%- set files = lake_root() ~ '/_manifests/*/*.json' %}
    {%- if lake_files_exist(files) %}
        select
            source as source_name,
            run_id,
            table_name,
            rows_in[table_name] as rows_in,
            coalesce(rows_landed[table_name], 0) as rows_landed,
            coalesce(rows_quarantined[table_name], 0) as rows_quarantined,
            coalesce(landing_checks[table_name], 0) as landing_expectations
        from (
            select
                *,
                unnest(map_keys(rows_in)) as table_name
            from read_json(
                '{{ files }}',
                columns = {
                    source: 'varchar',
                    run_id: 'varchar',
                    rows_in: 'map(varchar, bigint)',
                    rows_landed: 'map(varchar, bigint)',
                    rows_quarantined: 'map(varchar, bigint)',
                    landing_checks: 'map(varchar, bigint)'
                }
            )
        ) as run_keys
    {%- else %}
        select
            cast(null as varchar) as source_name,
            cast(null as varchar) as run_id,
            cast(null as varchar) as table_name,
            cast(null as bigint) as rows_in,
            cast(null as bigint) as rows_landed,
            cast(null as bigint) as rows_quarantined,
            cast(null as bigint) as landing_expectations
        where 1 = 0
    {%- endif %}
{%- endmacro %}

{% macro default__lake_run_tables() -%}
    select
        source_name, run_id, table_name, rows_in, rows_landed, rows_quarantined,
        landing_expectations
    from _lake.run_tables
{%- endmacro %}

{#- Extract runs that failed (connectors.landing.record_failure), one row each: source_name,
    run_id, failed_at (UTC), error_type, error. -#}
{% macro lake_failures() -%}
    {{ return(adapter.dispatch('lake_failures', 'iochub')()) }}
{%- endmacro %}

{% macro duckdb__lake_failures() -%}
    {%- set files = lake_root() ~ '/_failures/*/*.json' %}
    {%- if lake_files_exist(files) %}
        select
            source as source_name,
            run_id,
            cast(timezone('UTC', cast(failed_at as timestamptz)) as timestamp) as failed_at,
            error_type,
            error
        from read_json(
            '{{ files }}',
            columns = {
                source: 'varchar',
                run_id: 'varchar',
                failed_at: 'varchar',
                error_type: 'varchar',
                error: 'varchar'
            }
        )
    {%- else %}
        select
            cast(null as varchar) as source_name,
            cast(null as varchar) as run_id,
            cast(null as timestamp) as failed_at,
            cast(null as varchar) as error_type,
            cast(null as varchar) as error
        where 1 = 0
    {%- endif %}
{%- endmacro %}

{% macro default__lake_failures() -%}
    select source_name, run_id, failed_at, error_type, error from _lake.failures
{%- endmacro %}

{#- The registry snapshot (iochub.lake_meta.write_registry_snapshot): one row per declared
    source table. -#}
{% macro lake_registry() -%}
    {{ return(adapter.dispatch('lake_registry', 'iochub')()) }}
{%- endmacro %}

{% macro duckdb__lake_registry() -%}
    {%- set file = lake_root() ~ '/_registry/sources.parquet' %}
    {%- if lake_files_exist(file) %}
        select * from read_parquet('{{ file }}')
    {%- else %}
        select
            cast(null as varchar) as source_name,
            cast(null as varchar) as table_name,
            cast(null as varchar) as sector,
            cast(null as varchar) as source_title,
            cast(null as varchar) as table_title,
            cast(null as varchar) as owner,
            cast(null as varchar) as kind,
            cast(null as varchar) as schedule,
            cast(null as bigint) as freshness_hours
        where 1 = 0
    {%- endif %}
{%- endmacro %}

{% macro default__lake_registry() -%}
    select * from _lake.registry
{%- endmacro %}

{#- DuckDB refuses a glob that matches nothing, and a fresh lake has none of these files yet:
    ask first. While dbt parses (`execute` false) nothing is queried. -#}
{% macro lake_files_exist(pattern) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The lake's root folder (IOC_LAKE, set by iochub.settings.tool_environment). sqlfluff's
    templater has no env_var inside macros: it lints with a placeholder. -#}
{% macro lake_root() -%}
    {%- if env_var is defined -%}
        {{ return(env_var('IOC_LAKE', '/nonexistent-lake')) }}
    {%- else -%}
        {{ return('/lake') }}
    {%- endif -%}
{%- endmacro %}
