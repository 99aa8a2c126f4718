{#-
  One row per key, the first in `order_by` within each key, every column of `relation`.

  Why not `select distinct on (keys) * ... order by keys, order_by`, which both engines accept:
  DuckDB (1.5) plans it as a hash aggregate with one arg_min state per column, which cannot
  spill; on a province-year (5.8 million XML 130 episodes of 28 columns) it ran out of 19 GB,
  while row_number() over a partition sorts externally and took 42 s in 8 GB
  (bench/README.md, dbt at scale 1). Columns are listed from the relation (no `* exclude`, which
  PostgreSQL lacks), so the rank column stays out; when `relation` is a CTE's name, from
  `columns_of`, a relation with the same columns.
-#}
{% macro latest_per_key(relation, keys, order_by, columns_of=none) -%}
    {%- set columns = adapter.get_columns_in_relation(columns_of or relation) if execute else [] -%}
    select
        {% for column in columns -%}
            {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
        {% else -%}
        *
    {%- endfor %}
    from (
        select
            latest_source.*,
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by {{ order_by }}
            ) as latest_rank
        from {{ relation }} as latest_source
    ) as latest_ranked
    where latest_rank = 1
{%- endmacro %}
