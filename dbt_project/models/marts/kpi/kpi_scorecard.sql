-- The scorecard the province publishes, per admin unit and period (month, quarter, year):
-- how many of the indicators with a target were met, not met, in progress or without data,
-- as a sentence in Vietnamese and English ("39 of 43 met, 1 not met, 3 in progress"), and the
-- QĐ 766 points of the unit in the period.
-- Indicators counted for a unit: those with a target that the warehouse computes at the
-- unit's level for the period type (any unit of that level); one of them without a row for
-- this unit and period counts as "no data".
with kpi_values as (
    select
        kpi_id,
        period_type,
        period,
        admin_level,
        admin_code,
        status,
        score,
        max_points
    from {{ ref('fct_kpi_value') }}
),

units as (
    select distinct
        period_type,
        period,
        period_start,
        period_end,
        period_year,
        admin_level,
        admin_code,
        structure,
        admin_unit_key
    from {{ ref('fct_kpi_value') }}
),

tracked as (
    select distinct
        admin_level,
        period_type,
        kpi_id
    from kpi_values
    where status != 'no target'
),

judged as (
    select
        units.period,
        units.admin_level,
        units.admin_code,
        coalesce(kpi_values.status, 'no data') as status
    from units
    inner join tracked
        on
            units.admin_level = tracked.admin_level
            and units.period_type = tracked.period_type
    left join kpi_values
        on
            tracked.kpi_id = kpi_values.kpi_id
            and units.period = kpi_values.period
            and units.admin_level = kpi_values.admin_level
            and units.admin_code = kpi_values.admin_code
),

counts as (
    select
        period,
        admin_level,
        admin_code,
        count(*) as indicators_tracked,
        sum(case when status = 'met' then 1 else 0 end) as indicators_met,
        sum(case when status = 'not met' then 1 else 0 end) as indicators_not_met,
        sum(case when status = 'in progress' then 1 else 0 end) as indicators_in_progress,
        sum(case when status = 'no data' then 1 else 0 end) as indicators_no_data
    from judged
    group by period, admin_level, admin_code
),

points as (
    select
        period,
        admin_level,
        admin_code,
        count(score) as qd766_indicators_scored,
        sum(score) as qd766_points,
        sum(case when score is not null then max_points end) as qd766_points_possible
    from kpi_values
    group by period, admin_level, admin_code
),

scorecard as (
    select
        units.period || '|' || units.admin_level || '|' || units.admin_code as scorecard_id,
        units.period_type,
        units.period,
        units.period_start,
        units.period_end,
        units.period_year,
        units.admin_level,
        units.admin_code,
        units.structure,
        units.admin_unit_key,
        coalesce(counts.indicators_tracked, 0) as indicators_tracked,
        coalesce(counts.indicators_met, 0) as indicators_met,
        coalesce(counts.indicators_not_met, 0) as indicators_not_met,
        coalesce(counts.indicators_in_progress, 0) as indicators_in_progress,
        coalesce(counts.indicators_no_data, 0) as indicators_no_data,
        points.qd766_indicators_scored,
        points.qd766_points,
        points.qd766_points_possible
    from units
    left join counts
        on
            units.period = counts.period
            and units.admin_level = counts.admin_level
            and units.admin_code = counts.admin_code
    left join points
        on
            units.period = points.period
            and units.admin_level = points.admin_level
            and units.admin_code = points.admin_code
)

select
    scorecard_id,
    period_type,
    period,
    period_start,
    period_end,
    period_year,
    admin_level,
    admin_code,
    structure,
    admin_unit_key,
    indicators_tracked,
    indicators_met,
    indicators_not_met,
    indicators_in_progress,
    indicators_no_data,
    cast(indicators_met as varchar) || '/' || cast(indicators_tracked as varchar)
    || ' chỉ tiêu đạt'
    || case
        when indicators_not_met > 0
            then ', ' || cast(indicators_not_met as varchar) || ' chưa đạt'
        else ''
    end
    || case
        when indicators_in_progress > 0
            then ', ' || cast(indicators_in_progress as varchar) || ' đang thực hiện'
        else ''
    end
    || case
        when indicators_no_data > 0
            then ', ' || cast(indicators_no_data as varchar) || ' chưa có số liệu'
        else ''
    end as summary_vi,
    cast(indicators_met as varchar) || ' of ' || cast(indicators_tracked as varchar) || ' met'
    || case
        when indicators_not_met > 0
            then ', ' || cast(indicators_not_met as varchar) || ' not met'
        else ''
    end
    || case
        when indicators_in_progress > 0
            then ', ' || cast(indicators_in_progress as varchar) || ' in progress'
        else ''
    end
    || case
        when indicators_no_data > 0
            then ', ' || cast(indicators_no_data as varchar) || ' no data'
        else ''
    end as summary_en,
    qd766_indicators_scored,
    qd766_points,
    qd766_points_possible
from scorecard
