-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- The months the one-stop data covers and each month's cut: every calendar month from the first
-- submission to the end of the data (the day of the last row change landed, updated_at), cut at
-- the month's last day or, for the last month, at the end of the data.
with landed as (
    select
        min(cast(submitted_at as date)) as first_day,
        max(cast(updated_at as date)) as last_day
    from {{ ref('stg_one_stop__dossiers') }}
),

days as (
    select
        dates.month_start,
        dates.date_day,
        landed.last_day
    from {{ ref('dim_date') }} as dates
    inner join landed
        on
            dates.month_start >= cast(date_trunc('month', landed.first_day) as date)
            and dates.date_day <= landed.last_day
)

select
    {{ month_key("month_start") }} as period,
    month_start,
    max(date_day) as cut_on
from days
group by month_start
