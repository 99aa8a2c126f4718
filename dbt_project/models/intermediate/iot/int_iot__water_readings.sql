-- Every valid water-quality reading once: the CSV backfill and the MQTT stream unioned and
-- de-duplicated by message_id (the CSV dump, the record of reference, wins; then the latest run).
with unioned as (
    select * from {{ ref('stg_iot_csv_backfill__water_readings') }}
    union all by name
    select * from {{ ref('stg_iot_mqtt__water_readings') }}
)

select *
from unioned
qualify row_number() over (
    partition by message_id
    order by case channel when 'csv' then 0 else 1 end, run_id desc, source_file desc
) = 1
