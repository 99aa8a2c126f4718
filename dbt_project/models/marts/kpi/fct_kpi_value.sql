-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- One row per indicator × period × admin unit: the month rows of every kpi_input model (the
-- KPI contract, models/intermediate/kpi/), rolled up to quarters and years, with the
-- catalogue's name, unit and scoring, the year's target, the status and the QĐ 766 score.
--
-- Roll-up (macro kpi_period_aggregation, column period_aggregation): ratio = Σ numerators /
-- Σ denominators of the months; sum = Σ of the months (counts, hectares); last = the last
-- month's row (stocks at the period's end: coverage, shares of a population); month_only = no
-- quarter or year row.
-- Target: the kpi_targets row of the indicator for the unit itself, else for the province
-- (82), of the period's year or, when that year has none, of the latest earlier year (a
-- target "by 2023" stays the bar until a newer one is set); for QĐ 766 threshold indicators
-- without a plan target, the full-score threshold (value ≥ threshold).
-- Status: no target; in progress (the period has not ended by the as-of date, var
-- kpi_as_of_date or the build's date); no data (no value: empty denominator); met; not met.
-- Every build redoes it (iochub/build_plan.py): statuses are judged on the build's date.
{{ config(tags=['every_build']) }}

with inputs as (
    {{ kpi_input_union() }}
),

catalogue as (
    select
        kpi_id,
        name_vi,
        name_en,
        unit,
        direction,
        scoring_kind,
        threshold,
        max_points,
        {{ kpi_period_aggregation('kpi_id', 'unit') }} as period_aggregation
    from {{ ref('kpi_catalogue') }}
),

calendar as (
    select
        period_month,
        period_quarter,
        cast(year_number as varchar) as period_year,
        year_number,
        date_day
    from {{ ref('dim_date') }}
),

month_periods as (
    select
        period_month,
        min(period_quarter) as period_quarter,
        min(period_year) as period_year
    from calendar
    group by period_month
),

period_bounds as (
    select
        'month' as period_type,
        period_month as period,
        min(year_number) as period_year_number,
        min(date_day) as period_start,
        max(date_day) as period_end,
        1 as months_in_period
    from calendar
    group by period_month

    union all

    select
        'quarter' as period_type,
        period_quarter as period,
        min(year_number) as period_year_number,
        min(date_day) as period_start,
        max(date_day) as period_end,
        3 as months_in_period
    from calendar
    group by period_quarter

    union all

    select
        'year' as period_type,
        period_year as period,
        min(year_number) as period_year_number,
        min(date_day) as period_start,
        max(date_day) as period_end,
        12 as months_in_period
    from calendar
    group by period_year
),

months as (
    select
        inputs.kpi_id,
        inputs.period,
        inputs.admin_level,
        inputs.admin_code,
        inputs.structure,
        inputs.numerator,
        inputs.denominator,
        inputs.value,
        month_periods.period_quarter,
        month_periods.period_year,
        coalesce(catalogue.period_aggregation, 'ratio') as period_aggregation,
        row_number() over (
            partition by
                inputs.kpi_id,
                inputs.admin_level,
                inputs.admin_code,
                inputs.structure,
                month_periods.period_quarter
            order by inputs.period desc
        ) as rank_in_quarter,
        row_number() over (
            partition by
                inputs.kpi_id,
                inputs.admin_level,
                inputs.admin_code,
                inputs.structure,
                month_periods.period_year
            order by inputs.period desc
        ) as rank_in_year
    from inputs
    left join month_periods on inputs.period = month_periods.period_month
    left join catalogue on inputs.kpi_id = catalogue.kpi_id
),

-- Each month row once for its quarter and once for its year.
rollup_members as (
    select
        kpi_id,
        'quarter' as period_type,
        period_quarter as period,
        admin_level,
        admin_code,
        structure,
        numerator,
        denominator,
        value,
        period_aggregation,
        rank_in_quarter as rank_in_period
    from months
    where period_aggregation != 'month_only'

    union all

    select
        kpi_id,
        'year' as period_type,
        period_year as period,
        admin_level,
        admin_code,
        structure,
        numerator,
        denominator,
        value,
        period_aggregation,
        rank_in_year as rank_in_period
    from months
    where period_aggregation != 'month_only'
),

rollups as (
    select
        kpi_id,
        period_type,
        period,
        admin_level,
        admin_code,
        structure,
        case period_aggregation
            when 'last' then max(case when rank_in_period = 1 then numerator end)
            else sum(numerator)
        end as numerator,
        case period_aggregation
            when 'last' then max(case when rank_in_period = 1 then denominator end)
            when 'ratio' then sum(denominator)
        end as denominator,
        case period_aggregation
            when 'last' then max(case when rank_in_period = 1 then value end)
            when 'sum' then sum(value)
            else sum(numerator) / nullif(sum(denominator), 0)
        end as value,  -- noqa: RF04
        period_aggregation,
        count(*) as months_covered
    from rollup_members
    group by
        kpi_id,
        period_type,
        period,
        admin_level,
        admin_code,
        structure,
        period_aggregation
),

all_periods as (
    select
        kpi_id,
        'month' as period_type,
        period,
        admin_level,
        admin_code,
        structure,
        numerator,
        denominator,
        value,
        period_aggregation,
        1 as months_covered
    from months

    union all

    select
        kpi_id,
        period_type,
        period,
        admin_level,
        admin_code,
        structure,
        numerator,
        denominator,
        value,
        period_aggregation,
        months_covered
    from rollups
),

valued as (
    select
        all_periods.*,
        period_bounds.period_year_number,
        period_bounds.period_start,
        period_bounds.period_end,
        period_bounds.months_in_period
    from all_periods
    left join period_bounds
        on
            all_periods.period_type = period_bounds.period_type
            and all_periods.period = period_bounds.period
),

target_candidates as (
    select
        valued.kpi_id,
        valued.period_type,
        valued.period,
        valued.admin_level,
        valued.admin_code,
        targets.area_code,
        targets.target_year,
        targets.target_value,
        targets.comparison,
        row_number() over (
            partition by
                valued.kpi_id,
                valued.period_type,
                valued.period,
                valued.admin_level,
                valued.admin_code
            order by
                case when targets.area_code = valued.admin_code then 0 else 1 end,
                targets.target_year desc
        ) as target_rank
    from valued
    inner join {{ ref('kpi_targets') }} as targets
        on
            valued.kpi_id = targets.kpi_id
            and valued.period_year_number >= targets.target_year
            and (
                (
                    valued.admin_code = targets.area_code
                    and valued.admin_level = targets.area_level
                )
                or targets.area_code = '82'
            )
),

targeted as (
    select
        valued.*,
        catalogue.name_vi,
        catalogue.name_en,
        catalogue.unit,
        catalogue.direction,
        catalogue.scoring_kind,
        catalogue.threshold,
        catalogue.max_points,
        target_candidates.area_code as target_area_code,
        target_candidates.target_year,
        case
            when target_candidates.target_value is not null then 'plan'
            when catalogue.scoring_kind = 'threshold' then 'qd766_threshold'
        end as target_source,
        case
            when target_candidates.target_value is not null
                then target_candidates.target_value
            when catalogue.scoring_kind = 'threshold' then catalogue.threshold
        end as target_value,
        case
            when target_candidates.target_value is not null
                then target_candidates.comparison
            when catalogue.scoring_kind = 'threshold' then '>='
        end as target_comparison
    from valued
    left join catalogue on valued.kpi_id = catalogue.kpi_id
    left join target_candidates
        on
            valued.kpi_id = target_candidates.kpi_id
            and valued.period_type = target_candidates.period_type
            and valued.period = target_candidates.period
            and valued.admin_level = target_candidates.admin_level
            and valued.admin_code = target_candidates.admin_code
            and target_candidates.target_rank = 1
)

select
    kpi_id || '|' || period || '|' || admin_level || '|' || admin_code as kpi_value_id,
    kpi_id,
    period_type,
    period,
    period_start,
    period_end,
    period_year_number as period_year,
    admin_level,
    admin_code,
    structure,
    case when structure = '2025' then 'current' else 'legacy' end
    || ':' || admin_level || ':' || admin_code as admin_unit_key,
    numerator,
    denominator,
    value,
    period_aggregation,
    months_covered,
    months_in_period,
    name_vi,
    name_en,
    unit,
    direction,
    scoring_kind,
    threshold,
    max_points,
    target_source,
    target_area_code,
    target_year,
    target_value,
    target_comparison,
    case
        when target_value is null then 'no target'
        when period_end >= {{ kpi_as_of_date() }} then 'in progress'
        when value is null then 'no data'
        when {{ kpi_target_reached('value', 'target_comparison', 'target_value') }} then 'met'
        else 'not met'
    end as status,
    {{ kpi_score('value', 'scoring_kind', 'threshold', 'max_points') }} as score
from targeted
