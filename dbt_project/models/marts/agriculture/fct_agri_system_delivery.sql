-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Per agriculture system and month: whether it delivered (≥1 landed row dated in the month, in
-- any of its tables), with rows and tables delivered; every system × every month from the first
-- to the last month any system delivered (a system silent in a month gets a row with false).
with deliveries as (
    select
        system_code,
        {{ month_key("report_date") }} as period,
        count(*) as rows_delivered,
        count(distinct table_name) as tables_delivered,
        count(distinct report_date) as delivery_days,
        max(report_date) as last_report_date
    from {{ ref('int_agriculture__deliveries') }}
    group by system_code, {{ month_key("report_date") }}
),

bounds as (
    select
        min(report_date) as first_date,
        max(report_date) as last_date
    from {{ ref('int_agriculture__deliveries') }}
),

months as (
    select distinct dates.period_month as period
    from {{ ref('dim_date') }} as dates
    cross join bounds
    where dates.date_day between bounds.first_date and bounds.last_date
)

select
    systems.system_code,
    months.period,
    deliveries.last_report_date,
    deliveries.rows_delivered is not null as is_delivered,
    coalesce(deliveries.rows_delivered, 0) as rows_delivered,
    coalesce(deliveries.tables_delivered, 0) as tables_delivered,
    coalesce(deliveries.delivery_days, 0) as delivery_days
from {{ ref('dim_agri_system') }} as systems
cross join months
left join deliveries
    on
        systems.system_code = deliveries.system_code
        and months.period = deliveries.period
