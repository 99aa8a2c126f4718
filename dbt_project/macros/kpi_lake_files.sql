{#
    Lake files the meta marts read directly (manifests, quarantine, the registry snapshot).
    DuckDB refuses a glob that matches nothing, and a fresh lake has none of these yet, so a
    model asks first and selects an empty typed row set instead. Only DuckDB reads the lake:
    on other adapters (dbt-postgres, see tests/integration/test_postgres_portability.py) the
    answer is always no. While dbt parses (`execute` false) nothing is queried.
#}
{% macro lake_files_exist(pattern) -%}
    {%- if not execute or not lake_is_readable() -%}
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

{#- Whether this target reads the lake's files itself (DuckDB); the meta marts exist only
    there. -#}
{% macro lake_is_readable() -%}
    {{ return(target is defined and target.type == 'duckdb') }}
{%- endmacro %}
