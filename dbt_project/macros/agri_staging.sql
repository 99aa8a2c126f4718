{#
    Staging of one agriculture system's table. The 28 systems share the province's reporting
    envelope (record_id, report_date, admin codes as sent) and, per domain, the same columns
    (crop_area from TT01 and from the provincial platform DT01 alike), so one macro stages them
    all: the envelope, the domain columns named by the model, the sent admin codes kept and the
    current commune they resolve to (old codes through the crosswalk).
#}
{% macro agri_staging(system_code, table_name, columns) %}
    {%- set source_name = 'agri_' ~ system_code | lower -%}
with source as (
    select * from {{ source(source_name, table_name) }}
)

select
    '{{ system_code }}' as system_code,
    '{{ table_name }}' as table_name,
    source.record_id,
    source.report_date,
    source.province_code,
    nullif(trim(source.district_code), '') as district_code,
    source.commune_code as sent_commune_code,
    source.commune_name,
{%- for column in columns %}
    source.{{ column }},
{%- endfor %}
    source._run_id as run_id,
    source.load_date,
    {{ resolve_admin_code('source.commune_code', 'source.report_date', 'source.district_code') }}
        as commune_code
from source
{% endmacro %}
