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
),

-- row_number rather than distinct on: see macros/latest_per_key.sql.
ranked as (
    select
        claims.*,
        row_number() over (
            partition by claims.facility_code, claims.episode_id
            order by
                claims.is_landed desc,
                claims.file_date desc,
                claims.run_id desc,
                claims.source_file desc
        ) as claim_rank
    from claims
    where claims.facility_code is not null and claims.episode_id is not null
)

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
    is_landed,
    quarantine_reason
from ranked
where claim_rank = 1
