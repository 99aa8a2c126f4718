-- Communes of the current structure (from 1 July 2025); the pre-2025 structure and the
-- crosswalk between them join here when the warehouse issue adds them.
select
    commune_code as admin_unit_code,
    commune_name as admin_unit_name,
    commune_type as admin_unit_type,
    province_code,
    province_name,
    latitude,
    longitude,
    area_km2,
    date '2025-07-01' as valid_from,
    cast(null as date) as valid_to
from {{ ref('admin_unit_2025') }}
