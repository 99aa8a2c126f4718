-- Digital-economy and digital-society indicators per unit and month, as the statistics office
-- publishes them: numerator, denominator and the recomputed rate (the published percentage kept
-- for comparison).
select
    period,
    indicator_code,
    indicator_name,
    admin_level,
    province_code,
    district_code,
    commune_code,
    sent_commune_code,
    unit_name,
    measure_unit,
    numerator,
    denominator,
    case when denominator > 0 then numerator / denominator end as rate,
    published_rate,
    published_on,
    period_start
from {{ ref('int_statistics__indicators_latest') }}
