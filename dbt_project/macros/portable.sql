{#
    SQL that differs between the warehouse's adapters (DESIGN.md "Scale-out path"): DuckDB,
    the engine of the laptop and the province, and PostgreSQL, the second adapter the CI proves
    the project on (tests/integration/test_postgres_portability.py). Everything else in the
    models is SQL both accept; dbt's own cross-database macros (dbt.datediff, dbt.last_day)
    are used where they exist. Each macro dispatches: `duckdb__` for DuckDB, `default__` for
    PostgreSQL and engines like it.
#}

{#- The calendar month of a date or timestamp as 'YYYY-MM', the period key of every fact. -#}
{% macro month_key(expr) -%}
    {{ return(adapter.dispatch('month_key', 'iochub')(expr)) }}
{%- endmacro %}

{% macro duckdb__month_key(expr) -%}
    strftime({{ expr }}, '%Y-%m')
{%- endmacro %}

{% macro default__month_key(expr) -%}
    to_char({{ expr }}, 'YYYY-MM')
{%- endmacro %}

{#- `expr` (text) cast to `type`, or null where the text is not a value of that type. Sources
    are landed typed; this is for the XML 130 fields the contract keeps as text and for rows
    read back from quarantine, where a bad value must give null, not stop the build.
    PostgreSQL before 16 has no safe cast: the text is matched against the type's literal
    form first (integers, decimals, ISO timestamps). -#}
{% macro cast_or_null(expr, type) -%}
    {{ return(adapter.dispatch('cast_or_null', 'iochub')(expr, type)) }}
{%- endmacro %}

{% macro duckdb__cast_or_null(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro default__cast_or_null(expr, type) -%}
    {%- set patterns = {
        'integer': '^\\s*[-+]?[0-9]{1,9}\\s*$',
        'bigint': '^\\s*[-+]?[0-9]{1,18}\\s*$',
        'double precision': '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$',
        'timestamp': '^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}'
            ~ '([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?\\s*$',
    } -%}
    {%- if type not in patterns -%}
        {{ exceptions.raise_compiler_error(
            "cast_or_null: no pattern for type '" ~ type ~ "' on " ~ target.type
        ) }}
    {%- endif -%}
    case
        when cast({{ expr }} as text) ~ '{{ patterns[type] }}'
            then cast({{ expr }} as {{ type }})
    end
{%- endmacro %}

{#- A compact XML 130 date-time (yyyymmddHHMM) as a timestamp, or null when it is not a real
    one (13th month, 31 February). -#}
{% macro parse_compact_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_compact_timestamp', 'iochub')(expr)) }}
{%- endmacro %}

{% macro duckdb__parse_compact_timestamp(expr) -%}
    try_strptime({{ expr }}, '%Y%m%d%H%M')
{%- endmacro %}

{% macro default__parse_compact_timestamp(expr) -%}
    case
        when
            {{ expr }} ~ '^[0-9]{12}$'
            and {{ compact_date_is_real('substr(' ~ expr ~ ', 1, 8)') }}
            and substr({{ expr }}, 9, 2) < '24'
            and substr({{ expr }}, 11, 2) < '60'
            then to_date(substr({{ expr }}, 1, 8), 'YYYYMMDD')
            + make_interval(
                hours => cast(substr({{ expr }}, 9, 2) as integer),
                mins => cast(substr({{ expr }}, 11, 2) as integer)
            )
    end
{%- endmacro %}

{#- A compact date (yyyymmdd) as a date, or null when it is not a real one. -#}
{% macro parse_compact_date(expr) -%}
    {{ return(adapter.dispatch('parse_compact_date', 'iochub')(expr)) }}
{%- endmacro %}

{% macro duckdb__parse_compact_date(expr) -%}
    cast(try_strptime({{ expr }}, '%Y%m%d') as date)
{%- endmacro %}

{% macro default__parse_compact_date(expr) -%}
    case
        when {{ expr }} ~ '^[0-9]{8}$' and {{ compact_date_is_real(expr) }}
            then to_date({{ expr }}, 'YYYYMMDD')
    end
{%- endmacro %}

{#- PostgreSQL's to_date refuses an impossible day: check month and day before calling it. -#}
{% macro compact_date_is_real(expr) -%}
    substr({{ expr }}, 5, 2) between '01' and '12'
    and cast(substr({{ expr }}, 7, 2) as integer) between 1 and extract(
        day from {{ dbt.last_day("to_date(substr(" ~ expr ~ ", 1, 6) || '01', 'YYYYMMDD')", 'month') }}
    )
{%- endmacro %}

{#- The text value of a top-level key of a JSON object held as text. -#}
{% macro json_text(expr, key) -%}
    {{ return(adapter.dispatch('json_text', 'iochub')(expr, key)) }}
{%- endmacro %}

{% macro duckdb__json_text(expr, key) -%}
    json_extract_string({{ expr }}, '$.{{ key }}')
{%- endmacro %}

{% macro default__json_text(expr, key) -%}
    (cast({{ expr }} as jsonb) ->> '{{ key }}')
{%- endmacro %}

{#- Seconds from timestamp `start` to timestamp `finish`, with fractions. -#}
{% macro seconds_between(start, finish) -%}
    {{ return(adapter.dispatch('seconds_between', 'iochub')(start, finish)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(start, finish) -%}
    (epoch({{ finish }}) - epoch({{ start }}))
{%- endmacro %}

{% macro default__seconds_between(start, finish) -%}
    extract(epoch from ({{ finish }} - {{ start }}))
{%- endmacro %}

{#- The rows of `relations` (a list of refs) unioned by column name: a column missing from a
    relation is null there, typed as where it exists. DuckDB has UNION ALL BY NAME; others
    need the lists spelled out, which dbt_utils.union_relations does but hub packages cannot
    be installed offline. -#}
{#- sqlfluff renders the loop below without columns and misreads its indentation. -#}
-- noqa: disable=LT02
{% macro union_by_name(relations) -%}
    {%- set names = [] -%}
    {%- set types = {} -%}
    {%- set present = [] -%}
    {%- for relation in relations -%}
        {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
        {%- set here = [] -%}
        {%- for column in columns -%}
            {%- set name = column.name | lower -%}
            {%- do here.append(name) -%}
            {%- if name not in names -%}
                {%- do names.append(name) -%}
                {%- do types.update({name: column.data_type}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do present.append(here) -%}
    {%- endfor -%}
    {%- for relation in relations %}
        {%- set columns_here = present[loop.index0] %}
        {%- if not loop.first %}
    union all
        {%- endif %}
    select
        {%- for name in names %}
            {%- set quoted = adapter.quote(name) %}
            {%- set typed_null = 'cast(null as ' ~ types[name] ~ ') as ' ~ quoted %}
            {%- set separator = "," if not loop.last else "" %}
        {{ (quoted if name in columns_here else typed_null) ~ separator }}
        {%- endfor %}
    from {{ relation }}
    {%- endfor %}
{%- endmacro %}
-- noqa: enable=LT02

{#- `column` of `relation` when the relation has it, else a typed null: for optional fields a
    lake may never have received (no landed file of the table had them). -#}
{% macro optional_column(relation, column, type) -%}
    {%- set found = false -%}
    {%- if execute -%}
        {%- set probe = run_query('select * from ' ~ relation ~ ' where 1 = 0') -%}
        {%- set found = column | lower in (probe.column_names | map('lower') | list) -%}
    {%- endif -%}
    {%- if found -%}
        cast({{ column }} as {{ type }})
    {%- else -%}
        cast(null as {{ type }})
    {%- endif -%}
{%- endmacro %}

{#- A date's index on the Monday–Friday calendar: the difference of two indexes is the number
    of working days between them (a Saturday or Sunday counts as the Friday before). Days count
    from Monday 3 January 2000. -#}
{% macro working_day_index(expr) -%}
    {%- set offset = dbt.datediff("cast('2000-01-03' as date)", expr, 'day') -%}
    (5 * cast(floor({{ offset }} / 7.0) as integer) + least({{ offset }} % 7, 4))
{%- endmacro %}
