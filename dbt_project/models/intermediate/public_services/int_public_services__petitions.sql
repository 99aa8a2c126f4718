-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Citizen petitions (PhanAnhKienNghi) as the system holds them now (latest run of a table re-read
-- whole), with the sender's commune code resolved to the 2025 commune (codes as sent on the
-- reception day) and the old district for receptions before July 2025.
with landed as (
    select * from {{ ref('stg_one_stop__petitions') }}
),

current_rows as (
    select landed.*
    from landed
    where landed.run_id = (select max(latest.run_id) from landed as latest)
)

select
    current_rows.petition_code,
    current_rows.dossier_code,
    current_rows.received_at,
    current_rows.outcome_code,
    current_rows.outcome_name,
    current_rows.handled_at,
    current_rows.is_satisfied,
    current_rows.is_repeated,
    current_rows.commune_code_sent,
    current_rows.district_code_sent,
    current_rows.run_id,
    {{ resolve_admin_code(
        'current_rows.commune_code_sent',
        'cast(current_rows.received_at as date)',
        'current_rows.district_code_sent'
    ) }} as commune_code,
    legacy.district_code as legacy_district_code
from current_rows
left join {{ ref('admin_unit_legacy') }} as legacy
    on current_rows.commune_code_sent = legacy.commune_code
