-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Cơ sở khám chữa bệnh — one row per facility (MACSKCB) of the EHR registry's latest snapshot,
-- located at its old commune and district and at the current commune (resolved through the
-- crosswalk), with the registry's cashless and telemedicine flags.
with facilities as (
    select distinct on (facility_code) *
    from {{ ref('stg_ehr_registry__facilities') }}
    order by facility_code asc, run_id desc
),

located as (
    select
        facilities.*,
        coalesce(
            {{ resolve_admin_code(
                'facilities.legacy_commune_code', "cast('2025-06-30' as date)"
            ) }},
            facilities.sent_new_commune_code
        ) as commune_code
    from facilities
)

select
    located.facility_code,
    located.facility_name,
    located.facility_kind,
    located.facility_kind_name,
    located.legacy_commune_code,
    located.legacy_district_code,
    located.commune_code,
    communes.commune_name,
    communes.latitude,
    communes.longitude,
    located.cashless_since,
    located.has_telemedicine,
    left(located.facility_code, 2) as legacy_province_code,
    located.cashless_since is not null as is_cashless
from located
left join {{ ref('admin_unit_2025') }} as communes
    on located.commune_code = communes.commune_code
