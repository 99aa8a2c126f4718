-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Phiên khám chữa bệnh từ xa — one row per telemedicine session (a re-exported month lands a
-- session again: the latest run wins), located at the spoke facility's current commune.
with sessions as (
    select distinct on (session_id) *
    from {{ ref('stg_health_telemedicine__sessions') }}
    order by session_id asc, run_id desc, source_file desc
)

select
    sessions.session_id,
    sessions.started_at,
    sessions.hub_facility_code,
    sessions.spoke_facility_code,
    sessions.specialty,
    sessions.duration_minutes,
    spokes.commune_code,
    spokes.legacy_district_code,
    cast(sessions.started_at as date) as session_date,
    {{ month_key("sessions.started_at") }} as period,
    hubs.facility_code is not null as is_hub_in_province
from sessions
left join {{ ref('dim_facility') }} as spokes
    on sessions.spoke_facility_code = spokes.facility_code
left join {{ ref('dim_facility') }} as hubs
    on sessions.hub_facility_code = hubs.facility_code
