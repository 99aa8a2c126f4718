-- XML 130 files that were readable (well-formed, every payload valid base64), one row per file:
-- a file that yielded at least one XML1 record, landed or quarantined for its values. A file
-- rejected whole lands nothing and is not here. NGAYLAP (file_date) dates the export.
with files as (
    select
        facility_code,
        source_file,
        file_date
    from {{ ref('stg_health_xml130__episodes') }}
    union
    select
        facility_code,
        source_file,
        file_date
    from {{ ref('stg_health_xml130__episodes_quarantined') }}
)

select
    source_file,
    min(facility_code) as facility_code,
    min(file_date) as file_date
from files
where source_file is not null
group by source_file
