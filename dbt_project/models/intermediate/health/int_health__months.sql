-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- The months the health systems cover: every calendar month from the first to the last day
-- with health activity (an XML 130 export, a telemedicine session, a booking). Snapshot and
-- per-facility indicators get a row for each of them, activity or not.
with activity as (
    select file_date as activity_date
    from {{ ref('int_health__xml130_files_readable') }}
    union all
    select cast(started_at as date) as activity_date
    from {{ ref('stg_health_telemedicine__sessions') }}
    union all
    select cast(booked_at as date) as activity_date
    from {{ ref('stg_health_booking__appointments') }}
),

bounds as (
    select
        min(activity_date) as first_day,
        max(activity_date) as last_day
    from activity
),

days as (
    select
        dates.month_start,
        dates.date_day
    from {{ ref('dim_date') }} as dates
    inner join bounds
        on
            dates.month_start >= cast(date_trunc('month', bounds.first_day) as date)
            and dates.month_start <= bounds.last_day
)

select
    {{ month_key("month_start") }} as period,
    month_start,
    max(date_day) as month_end
from days
group by month_start
