{#-
  The latest landed version of each record of a source table: a select statement over
  `source(source_name, table_name)` keeping, per primary key, one row of the newest landing run
  (`_run_id` begins with the run's UTC timestamp). The key is the registry's (`primary_key`,
  carried into the generated sources YAML as `meta.primary_key` by `ioc dbt sources`), so a
  staging model states no key of its own and a record updated at the source counts once. A table
  declared without a key is read whole.

  One row, not every row of that run: systems re-send a record within one delivery (agri_dt03
  does, identically), and the key must stay unique. Which of two *different* versions sent in
  the same run wins is not defined (the lake keeps both); a source that does this needs an
  ordering column declared and a staging model that orders by it (`latest_per_key`).

  On DuckDB a `row_number()` over the key, the rank column dropped with `* exclude`: DuckDB plans
  `distinct on` as a hash aggregate that cannot spill (bench/README.md, dbt at scale 1), and a
  window sorts externally within the memory budget. Elsewhere (PostgreSQL, which has no
  `* exclude`) `distinct on`, which PostgreSQL sorts and spills. Not `latest_per_key`: it lists
  the relation's columns, which dbt cannot describe for a source read from the lake.

  Use: `with source as ({{ source_latest('agri_dk01', 'registrations') }})`.
-#}
{% macro source_latest(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set keys = [] -%}
    {%- if execute and graph is defined -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == source_name and node.name == table_name -%}
                {%- do keys.extend(node.meta.get('primary_key', [])) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if keys %}
        {{ adapter.dispatch('source_latest_select', 'iochub')(relation, keys) }}
    {%- else %}
select * from {{ relation }}
    {%- endif %}
{%- endmacro %}

{% macro duckdb__source_latest_select(relation, keys) -%}
    select * exclude (source_latest_rank)
    from (
        select
            *,
            row_number() over (
                partition by {{ keys | join(', ') }} order by _run_id desc
            ) as source_latest_rank
        from {{ relation }}
    ) as ranked
    where source_latest_rank = 1
{%- endmacro %}

{% macro default__source_latest_select(relation, keys) -%}
    select distinct on ({{ keys | join(', ') }}) *
    from {{ relation }}
    order by {{ keys | join(', ') }}, _run_id desc
{%- endmacro %}
