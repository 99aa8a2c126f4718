{#-
  The latest landed version of each record of a source table: a select statement over
  `source(source_name, table_name)` keeping, per primary key, the rows of the newest landing run
  (`_run_id` begins with the run's UTC timestamp). The key is the registry's (`primary_key`,
  carried into the generated sources YAML as `meta.primary_key` by `ioc dbt sources`), so a
  staging model states no key of its own and a record updated at the source counts once. A table
  declared without a key is read whole.

  A join on each key's newest run rather than `latest_per_key` (row_number over the key): that
  macro lists the relation's columns, which dbt cannot describe for a source read from the lake
  (an external read_parquet), and `* exclude` is DuckDB's only.

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
select landed.*
from {{ relation }} as landed
inner join (
    select
        {{ keys | join(', ') }},
        max(_run_id) as latest_run_id
    from {{ relation }}
    group by {{ keys | join(', ') }}
) as newest
    on
        {% for key in keys -%}
            landed.{{ key }} is not distinct from newest.{{ key }} and
        {% endfor -%}
        landed._run_id = newest.latest_run_id
{%- else %}
select * from {{ relation }}
{%- endif %}
{%- endmacro %}
