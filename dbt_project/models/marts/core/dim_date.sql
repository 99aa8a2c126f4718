-- One row per day, 2020-01-01 .. 2030-12-31: the calendar every KPI period joins to. The spine
-- comes from dbt's cross-database date_spine, so the model builds on DuckDB and PostgreSQL alike.
with spine as (
    {#- sqlfluff's jinja templater has no dbt context (`dbt` is not a mapping there), so it lints
        the placeholder branch; dbt itself always takes the first one. -#}
    {%- if dbt is mapping %}
        {{ dbt.date_spine(
            datepart="day",
            start_date="cast('2020-01-01' as date)",
            end_date="cast('2031-01-01' as date)"
        ) }}
    {%- else %}
        select cast(null as date) as date_day
    {%- endif %}
),

days as (
    select
        cast(date_day as date) as date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_of_year,
        cast(extract(month from date_day) as integer) as month_of_year,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast(extract(isoyear from date_day) as integer) as iso_year,
        cast(extract(week from date_day) as integer) as iso_week,
        cast(extract(isodow from date_day) as integer) as day_of_week
    from spine
)

select
    date_day,
    year_number * 10000 + month_of_year * 100 + day_of_month as date_key,
    year_number,
    quarter_of_year,
    month_of_year,
    day_of_month,
    make_date(year_number, month_of_year, 1) as month_start,
    iso_year,
    iso_week,
    day_of_week,
    day_of_week in (6, 7) as is_weekend,
    'Tháng ' || cast(month_of_year as varchar) || '/' || cast(year_number as varchar)
        as month_label_vi,
    cast(year_number as varchar) || '-' || lpad(cast(month_of_year as varchar), 2, '0')
        as period_month,
    cast(year_number as varchar) || '-Q' || cast(quarter_of_year as varchar) as period_quarter,
    date_day >= cast('2025-07-01' as date) as is_after_reorganisation
from days
