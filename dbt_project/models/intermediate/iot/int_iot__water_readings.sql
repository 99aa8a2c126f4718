-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Every valid water-quality reading once: the CSV backfill and the MQTT stream unioned and
-- de-duplicated by message_id (the CSV dump, the record of reference, wins; then the latest run).
with unioned as (
    {{ union_by_name([
        ref('stg_iot_csv_backfill__water_readings'),
        ref('stg_iot_mqtt__water_readings'),
    ]) }}
)

select distinct on (message_id) *
from unioned
order by
    message_id asc,
    case channel when 'csv' then 0 else 1 end asc,
    run_id desc,
    source_file desc
