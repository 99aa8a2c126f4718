{#
    Post-hook of the tables the build writes: on PostgreSQL, collect the planner's statistics
    at once. A table made by `create table as` has none until autovacuum comes by, and the
    models and tests that read it next are planned on guesses (one row where there are
    thousands, then a nested loop over a million rows for each). DuckDB plans from its own
    counts: nothing to run.
#}
{% macro analyze_for_planner() -%}
    {{ return(adapter.dispatch('analyze_for_planner', 'iochub')()) }}
{%- endmacro %}

{% macro duckdb__analyze_for_planner() -%}
{%- endmacro %}

{% macro default__analyze_for_planner() -%}
    analyze {{ this }}
{%- endmacro %}
