-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- XML1 episodes the landing gate rejected for their values (NGAY_RA in the future or before
-- NGAY_VAO, a negative amount, a residence code of neither structure), read back from the
-- lake's quarantine (lake/quarantine/health_xml130/load_date=…/<run_id>.parquet; raw_content is
-- the row as JSON, personal data already pseudonymised). They are readable claims: the episode
-- counts in OPS-HEALTH-EPISODES and its file in OPS-HEALTH-FACILITIES-REPORTING, but not in the
-- episode fact. Whole files rejected (malformed XML, invalid base64) are unreadable: not here.
with quarantined as (
    {{ lake_quarantine('health_xml130', ['xml1']) }}
),

fields as (
    select
        reason,
        run_id,
        load_date,
        {{ json_text('raw_json', 'MA_CSKCB') }} as facility_code,
        {{ json_text('raw_json', 'MA_LK') }} as episode_id,
        {{ json_text('raw_json', 'MAXA_CU_TRU') }} as residence_commune_code,
        {{ json_text('raw_json', '_source_file') }} as source_file,
        nullif(
            trim({{ json_text('raw_json', 'MAHUYEN_CU_TRU') }}), ''
        ) as residence_district_code,
        {{ parse_compact_timestamp(json_text('raw_json', 'NGAY_VAO')) }} as admitted_at,
        {{ parse_compact_date(json_text('raw_json', '_file_created_on')) }} as file_date
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
