-- One row per school: its identity as its latest term export states it (name, level,
-- ownership, current commune), with the terms it reported.
with latest as (
    select distinct on (school_code) *
    from {{ ref('int_education__school_terms') }}
    order by school_code asc, export_date desc, run_id desc
),

reported as (
    select
        school_code,
        count(*) as terms_reported,
        min(export_date) as first_export_date,
        max(export_date) as last_export_date
    from {{ ref('int_education__school_terms') }}
    group by school_code
)

select
    latest.school_code,
    latest.school_name,
    latest.level_code,
    latest.level_label,
    latest.is_public,
    latest.commune_code,
    latest.sent_commune_code,
    reported.terms_reported,
    reported.first_export_date,
    reported.last_export_date
from latest
inner join reported on latest.school_code = reported.school_code
