-- Admin units of both structures of the province's territory, one row per unit and structure:
-- the current one (from 1 July 2025: province 82 and its communes) and the one before (old
-- Tiền Giang 82 and old Đồng Tháp 87, their districts and communes; valid until 30 June 2025).
-- A code can exist in both structures (e.g. 82, or a commune code the new unit took over), so
-- the key is admin_unit_key; join facts on the current structure (is_current) or resolve sent
-- codes first with the resolve_admin_code macro.
with current_provinces as (
    select
        'current' as admin_structure,
        'province' as admin_level,
        province_code as admin_unit_code,
        province_name as admin_unit_name,
        cast(null as varchar) as admin_unit_type,
        cast(null as varchar) as parent_level,
        cast(null as varchar) as parent_code,
        cast(null as varchar) as district_code,
        cast(null as varchar) as district_name,
        province_code,
        province_name,
        latitude,
        longitude,
        cast(null as double precision) as area_km2
    from {{ ref('admin_province_2025') }}
),

current_communes as (
    select
        'current' as admin_structure,
        'commune' as admin_level,
        commune_code as admin_unit_code,
        commune_name as admin_unit_name,
        commune_type as admin_unit_type,
        'province' as parent_level,
        province_code as parent_code,
        cast(null as varchar) as district_code,
        cast(null as varchar) as district_name,
        province_code,
        province_name,
        latitude,
        longitude,
        cast(area_km2 as double precision) as area_km2
    from {{ ref('admin_unit_2025') }}
),

legacy_provinces as (
    select
        'legacy' as admin_structure,
        'province' as admin_level,
        province_code as admin_unit_code,
        province_name as admin_unit_name,
        cast(null as varchar) as admin_unit_type,
        cast(null as varchar) as parent_level,
        cast(null as varchar) as parent_code,
        cast(null as varchar) as district_code,
        cast(null as varchar) as district_name,
        province_code,
        province_name,
        latitude,
        longitude,
        cast(null as double precision) as area_km2
    from {{ ref('admin_province_legacy') }}
),

legacy_districts as (
    select
        'legacy' as admin_structure,
        'district' as admin_level,
        district_code as admin_unit_code,
        district_name as admin_unit_name,
        district_type as admin_unit_type,
        'province' as parent_level,
        province_code as parent_code,
        district_code,
        district_name,
        province_code,
        province_name,
        latitude,
        longitude,
        cast(null as double precision) as area_km2
    from {{ ref('admin_district_legacy') }}
),

legacy_communes as (
    select
        'legacy' as admin_structure,
        'commune' as admin_level,
        commune_code as admin_unit_code,
        commune_name as admin_unit_name,
        commune_type as admin_unit_type,
        'district' as parent_level,
        district_code as parent_code,
        district_code,
        district_name,
        province_code,
        province_name,
        latitude,
        longitude,
        cast(null as double precision) as area_km2
    from {{ ref('admin_unit_legacy') }}
),

units as (
    select * from current_provinces
    union all
    select * from current_communes
    union all
    select * from legacy_provinces
    union all
    select * from legacy_districts
    union all
    select * from legacy_communes
)

select
    admin_structure || ':' || admin_level || ':' || admin_unit_code as admin_unit_key,
    admin_unit_code,
    admin_unit_name,
    admin_unit_type,
    admin_level,
    admin_structure,
    case
        when parent_code is not null
            then admin_structure || ':' || parent_level || ':' || parent_code
    end as parent_admin_unit_key,
    parent_code as parent_admin_unit_code,
    district_code,
    district_name,
    province_code,
    province_name,
    latitude,
    longitude,
    area_km2,
    case
        when admin_structure = 'current' then cast('2025-07-01' as date)
    end as valid_from,
    case
        when admin_structure = 'legacy' then cast('2025-06-30' as date)
    end as valid_to,
    admin_structure = 'current' as is_current
from units
