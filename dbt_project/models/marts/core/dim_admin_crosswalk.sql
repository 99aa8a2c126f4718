-- Old (pre-July 2025) commune → new commune, one row per pair; a split old commune has one
-- default target (the one a fact without a better location goes to).
select
    crosswalk.legacy_commune_code,
    legacy.commune_name as legacy_commune_name,
    crosswalk.legacy_district_code,
    legacy.district_name as legacy_district_name,
    crosswalk.legacy_province_code,
    legacy.province_name as legacy_province_name,
    crosswalk.new_commune_code,
    current_units.commune_name as new_commune_name,
    current_units.province_code as new_province_code,
    crosswalk.is_split,
    crosswalk.is_default_target,
    crosswalk.share,
    crosswalk.valid_from,
    crosswalk.correction_id,
    crosswalk.legacy_commune_code || '>' || crosswalk.new_commune_code as crosswalk_key
from {{ ref('admin_crosswalk') }} as crosswalk
inner join {{ ref('admin_unit_legacy') }} as legacy
    on crosswalk.legacy_commune_code = legacy.commune_code
inner join {{ ref('admin_unit_2025') }} as current_units
    on crosswalk.new_commune_code = current_units.commune_code
