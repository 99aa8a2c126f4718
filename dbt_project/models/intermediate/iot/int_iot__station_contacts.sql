-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Every time a station was heard from: a water-quality reading (hourly) or a light-trap message
-- (one per night, its night_of), landed or rejected by the landing gate for its values (a
-- station that sends an out-of-range value is faulty, not silent). One row per station and
-- contact; the expected interval between contacts is 1 hour for water stations and 1 day for
-- traps (the night's count arrives at 06:00 the next morning). Times are the stations' local
-- wall time, as landed (a rejected row's text keeps its +07:00 offset, which is dropped).
with quarantined as (
    {{ lake_quarantine('iot_csv_backfill', ['water_readings', 'light_trap_counts']) }}
    union all
    {{ lake_quarantine('iot_mqtt', ['water_readings', 'light_trap_counts']) }}
),

water as (
    select
        station_code,
        observed_hour as contact_at
    from {{ ref('fct_iot_reading_hourly') }}
    union
    select
        {{ json_text('raw_json', 'station_code') }} as station_code,
        date_trunc('hour', {{ cast_or_null(
            'substr(' ~ json_text('raw_json', 'observed_at') ~ ', 1, 19)', 'timestamp'
        ) }}) as contact_at
    from quarantined
    where table_name = 'water_readings'
),

traps as (
    select
        station_code,
        cast(night_of as timestamp) as contact_at
    from {{ ref('fct_insect_trap_nightly') }}
    union
    select
        {{ json_text('raw_json', 'station_code') }} as station_code,
        {{ cast_or_null(json_text('raw_json', 'night_of'), 'timestamp') }} as contact_at
    from quarantined
    where table_name = 'light_trap_counts'
)

select
    station_code,
    cast(contact_at as timestamp) as contact_at,
    'hour' as contact_interval
from water
where station_code is not null and contact_at is not null
union all
select
    station_code,
    contact_at,
    'day' as contact_interval
from traps
where station_code is not null and contact_at is not null
