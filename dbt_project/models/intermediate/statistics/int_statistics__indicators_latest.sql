-- One row per period, unit and indicator (the feed's primary key): a month re-published or
-- landed twice keeps the latest landing run.
select *
from {{ ref('stg_statistics_feed__indicators') }}
qualify row_number() over (
    partition by
        period, level_code, province_code, district_code, sent_commune_code, indicator_code
    order by run_id desc, published_on desc, source_file desc
) = 1
