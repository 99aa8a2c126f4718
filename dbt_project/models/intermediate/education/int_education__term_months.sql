-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- The months each term's export stands for (HK1 September–January, HK2 February–May), up to
-- the data horizon: the newest month for which the warehouse holds any record of the
-- education, statistics, IoT or agriculture sources (a month not reached yet has no value).
with terms as (
    select distinct
        school_year,
        term_code,
        export_date
    from {{ ref('stg_education_exports__schools') }}
),

newest as (
    select {{ month_key("max(export_date)") }} as newest_month
    from terms
    union all
    select max(period) as newest_month
    from {{ ref('stg_statistics_feed__indicators') }}
    union all
    select {{ month_key("max(observed_at)") }} as newest_month
    from {{ ref('stg_iot_csv_backfill__water_readings') }}
    union all
    select {{ month_key("max(night_of)") }} as newest_month
    from {{ ref('stg_iot_csv_backfill__light_trap_counts') }}
    union all
    select {{ month_key("max(report_date)") }} as newest_month
    from {{ ref('int_agriculture__deliveries') }}
),

horizon as (
    select max(newest_month) as horizon_month
    from newest
),

month_offsets as (
    select month_offset.offset_months
    from (values (0), (1), (2), (3), (4)) as month_offset (offset_months)
),

term_months as (
    select
        terms.school_year,
        terms.term_code,
        terms.export_date,
        {{ month_key(dbt.dateadd(
            'month',
            'month_offsets.offset_months',
            "cast(date_trunc('month', terms.export_date) as date)"
        )) }} as period
    from terms
    cross join month_offsets
    where month_offsets.offset_months < case terms.term_code when 'HK1' then 5 else 4 end
)

select term_months.*
from term_months
cross join horizon
where term_months.period <= horizon.horizon_month
