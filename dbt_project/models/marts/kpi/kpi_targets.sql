-- Targets by indicator, area and year, as the plans and decisions set them (kpis.md,
-- province_facts.md). A target reached when `value <comparison> target_value` holds.
select
    cast(kpi_id as varchar) || '|' || cast(area_code as varchar) || '|'
    || cast(target_year as varchar) as kpi_target_id,
    cast(kpi_id as varchar) as kpi_id,
    cast(area_code as varchar) as area_code,
    case
        when length(cast(area_code as varchar)) = 2 then 'province' else 'commune'
    end as area_level,
    cast(target_year as integer) as target_year,
    cast(target_value as double precision) as target_value,
    cast(comparison as varchar) as comparison,
    cast(source_document as varchar) as source_document,
    cast(note as varchar) as note
from {{ ref('kpi_targets_seed') }}
