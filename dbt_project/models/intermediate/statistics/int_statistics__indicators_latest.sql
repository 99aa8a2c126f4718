-- One row per period, unit and indicator (the feed's primary key): a month re-published or
-- landed twice keeps the latest landing run.
select distinct on (
    period, level_code, province_code, district_code, sent_commune_code, indicator_code
) *
from {{ ref('stg_statistics_feed__indicators') }}
order by
    period asc,
    level_code asc,
    province_code asc,
    district_code asc,
    sent_commune_code asc,
    indicator_code asc,
    run_id desc,
    published_on desc,
    source_file desc
