-- Every readable XML1 episode once: the landed records and those the landing gate quarantined
-- for their values (stg_health_xml130__episodes_quarantined) — a claim the facility sent in a
-- well-formed file. One row per (facility, MA_LK): a landed copy before a quarantined one, then
-- the latest file. The basis of OPS-HEALTH-EPISODES (the episode fact keeps landed ones only).
with claims as (
    select
        facility_code,
        episode_id,
        admitted_at,
        residence_commune_code,
        residence_district_code,
        current_commune_code,
        file_date,
        source_file,
        run_id,
        true as is_landed,
        cast(null as varchar) as quarantine_reason
    from {{ ref('stg_health_xml130__episodes') }}
    union all
    select
        facility_code,
        episode_id,
        admitted_at,
        residence_commune_code,
        residence_district_code,
        current_commune_code,
        file_date,
        source_file,
        run_id,
        false as is_landed,
        reason as quarantine_reason
    from {{ ref('stg_health_xml130__episodes_quarantined') }}
)

select distinct on (facility_code, episode_id) *
from claims
where facility_code is not null and episode_id is not null
order by
    facility_code asc,
    episode_id asc,
    is_landed desc,
    file_date desc,
    run_id desc,
    source_file desc
