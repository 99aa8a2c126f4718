{#
    Rules of the KPI layer (fct_kpi_value), as portable SQL expressions (DuckDB and PostgreSQL).
#}

{#- How the month rows of an indicator roll up into a quarter or a year:
    - last: a stock at the period's end (a coverage, a share of a population, a register's
      state at month end): the quarter's or year's row is its last month's row present;
    - sum: a plain count or amount (unit count or ha): numerators and values add up, no
      denominator;
    - ratio: a flow rate (events of the period over events of the period): Σ numerators /
      Σ denominators;
    - month_only: no quarter or year row, because the true figure cannot be rolled up from
      months (QĐ 766 per-procedure indicators count a procedure once over the union of the
      period's months: 766-3.2, 766-3.5, 766-4.5a).
    The catalogue has no column saying stock or flow (periodicity and unit do not tell a
    coverage from a flow rate), so the stock indicators are listed here from their definitions
    in kpis.md and docs/demo-province.md; anything else in ratio-like units is a ratio. -#}
{% macro kpi_stock_indicators() -%}
    {{ return([
        '766-1.3', '766-3.1',
        'YT-01', 'YT-03', 'GD-01',
        'XH-01', 'XH-02', 'XH-03', 'XH-04',
        'DT-01', 'DT-02', 'DT-03', 'DT-04', 'DT-05', 'DT-06',
        'OPS-SME-ECOM', 'OPS-OCOP-ONLINE',
        'OPS-HEALTH-E-MEDICAL-BOOK', 'OPS-HEALTH-REMOTE-BOOKING',
        'OPS-SCHOOLS-DIGITAL', 'OPS-ENROLMENT', 'OPS-OVERDUE-DOSSIERS',
    ]) }}
{%- endmacro %}

{% macro kpi_month_only_indicators() -%}
    {{ return(['766-3.2', '766-3.5', '766-4.5a', 'CQ-01']) }}
{%- endmacro %}

{% macro kpi_period_aggregation(kpi_id, unit) -%}
    case
        when {{ kpi_id }} in ('{{ kpi_month_only_indicators() | join("', '") }}')
            then 'month_only'
        when {{ kpi_id }} in ('{{ kpi_stock_indicators() | join("', '") }}') then 'last'
        when {{ unit }} in ('count', 'ha') then 'sum'
        else 'ratio'
    end
{%- endmacro %}

{#- QĐ 766 points (kpis.md §1): threshold = max points when the value reaches the threshold,
    else value × max / threshold; linear = value × max; none, or no max points given = null.
    Points never go below zero: 5.3 and 5.4 subtract rates, so their value can be negative. -#}
{% macro kpi_score(value, scoring_kind, threshold, max_points) -%}
    case
        when {{ value }} is null or {{ max_points }} is null then null
        when {{ scoring_kind }} = 'threshold' and {{ threshold }} > 0
            then
                case
                    when {{ value }} >= {{ threshold }}
                        then cast({{ max_points }} as double precision)
                    when {{ value }} <= 0 then 0.0
                    else {{ value }} * {{ max_points }} / {{ threshold }}
                end
        when {{ scoring_kind }} = 'linear' and {{ value }} <= 0
            then 0.0
        when {{ scoring_kind }} = 'linear'
            then {{ value }} * {{ max_points }}
    end
{%- endmacro %}

{#- Whether `value <comparison> target` holds (comparison as in kpi_targets: >=, >, <=, <). -#}
{% macro kpi_target_reached(value, comparison, target) -%}
    case {{ comparison }}
        when '>=' then {{ value }} >= {{ target }}
        when '>' then {{ value }} > {{ target }}
        when '<=' then {{ value }} <= {{ target }}
        when '<' then {{ value }} < {{ target }}
    end
{%- endmacro %}

{#- The day the status is judged on: var kpi_as_of_date (yyyy-mm-dd) or the build's date. A
    period that has not ended by then is "in progress". -#}
{% macro kpi_as_of_date() -%}
    {%- set as_of = var('kpi_as_of_date', none) -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}
