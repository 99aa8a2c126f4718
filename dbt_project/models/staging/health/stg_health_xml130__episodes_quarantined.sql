-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- XML1 episodes the landing gate rejected for their values (NGAY_RA in the future or before
-- NGAY_VAO, a negative amount, a residence code of neither structure), read back from the
-- lake's quarantine (lake/quarantine/health_xml130/load_date=…/<run_id>.parquet; raw_content is
-- the row as JSON, personal data already pseudonymised). They are readable claims: the episode
-- counts in OPS-HEALTH-EPISODES and its file in OPS-HEALTH-FACILITIES-REPORTING, but not in the
-- episode fact. Whole files rejected (malformed XML, invalid base64) are unreadable: not here.
-- Only DuckDB reads the lake; elsewhere (and on a lake without quarantine) an empty typed set.
{%- set quarantine = lake_root() ~ '/quarantine/health_xml130/load_date=*/*.parquet' %}

with quarantined as (
    {%- if lake_files_exist(quarantine) %}
        select
            cast(reason as varchar) as reason,
            cast(run_id as varchar) as run_id,
            cast(load_date as date) as load_date,
            decode(raw_content) as raw_json
        from read_parquet('{{ quarantine }}', hive_partitioning = true)
        where table_name = 'xml1'
    {%- else %}
        select
            cast(null as varchar) as reason,
            cast(null as varchar) as run_id,
            cast(null as date) as load_date,
            cast(null as varchar) as raw_json
        where 1 = 0
    {%- endif %}
),

fields as (
    select
        reason,
        run_id,
        load_date,
        json_extract_string(raw_json, '$.MA_CSKCB') as facility_code,
        json_extract_string(raw_json, '$.MA_LK') as episode_id,
        json_extract_string(raw_json, '$.MAXA_CU_TRU') as residence_commune_code,
        json_extract_string(raw_json, '$._source_file') as source_file,
        nullif(
            trim(json_extract_string(raw_json, '$.MAHUYEN_CU_TRU')), ''
        ) as residence_district_code,
        try_strptime(
            json_extract_string(raw_json, '$.NGAY_VAO'), '%Y%m%d%H%M'
        ) as admitted_at,
        cast(try_strptime(
            json_extract_string(raw_json, '$._file_created_on'), '%Y%m%d'
        ) as date) as file_date
    from quarantined
)

select
    fields.*,
    {{ resolve_admin_code(
        'fields.residence_commune_code',
        'cast(fields.admitted_at as date)',
        'fields.residence_district_code'
    ) }} as current_commune_code
from fields
