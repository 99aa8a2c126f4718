-- The agriculture software systems and databases (28 in the demo province), one row per
-- registry source of the agriculture sector, from the sources' metadata (generated from the
-- connector registry): code, title, owner, connector, freshness and tables.
{%- set systems = [] %}
{%- if graph is defined and graph is mapping %}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') %}
        {%- if node.meta.get('sector') == 'agriculture' and node.source_name not in systems %}
            {%- do systems.append(node.source_name) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with systems as (
    {%- if systems %}
        {%- for source_name in systems %}
            {%- set nodes = graph.sources.values()
                | selectattr('source_name', 'equalto', source_name) | list %}
            {%- set described = nodes[0].source_description.split('. Owner: ') %}
            select
                '{{ source_name[5:] | upper }}' as system_code,
                '{{ source_name }}' as source_name,
                '{{ described[0] | replace("'", "''") }}' as system_title,
                '{{ described[1].split(". Landed by the ")[0] | replace("'", "''") }}' as owner_name,
                '{{ described[1].split(". Landed by the ")[1].split(" connector")[0] }}'
                    as connector_kind,
                {{ nodes[0].meta.get('freshness_hours', 'null') }} as freshness_hours,
                {{ nodes | length }} as tables_declared,
                '{{ nodes | map(attribute="name") | sort | join(",") }}' as table_names
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- else %}
        select
            cast(null as varchar) as system_code,
            cast(null as varchar) as source_name,
            cast(null as varchar) as system_title,
            cast(null as varchar) as owner_name,
            cast(null as varchar) as connector_kind,
            cast(null as integer) as freshness_hours,
            cast(null as integer) as tables_declared,
            cast(null as varchar) as table_names
        where false
    {%- endif %}
)

select * from systems
