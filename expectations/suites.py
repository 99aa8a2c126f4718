"""Great Expectations suites of the publish gate, as code: one suite per published mart.

A suite states what must hold for a mart to reach the wall. Row-level rules that need the whole
of a large table belong in dbt tests (they run inside DuckDB); these suites validate marts and
aggregates small enough to read into a DataFrame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations as gx
from great_expectations.expectations import Expectation

VISIT_TYPES = ["01", "02", "03", "04", "05", "06", "07", "08", "09"]


@dataclass(frozen=True)
class MartSuite:
    """A mart (``schema.table`` in the build warehouse) and the expectations it must meet."""

    table: str
    expectations: Callable[[], list[Expectation]]

    @property
    def name(self) -> str:
        return self.table.replace(".", "__")


def _fct_health_episode() -> list[Expectation]:
    e = gx.expectations
    return [
        e.ExpectTableRowCountToBeBetween(min_value=1),
        e.ExpectColumnValuesToNotBeNull(column="episode_key"),
        e.ExpectColumnValuesToBeUnique(column="episode_key"),
        e.ExpectColumnValuesToNotBeNull(column="admitted_at"),
        e.ExpectColumnValuesToBeInSet(column="visit_type_code", value_set=VISIT_TYPES),
        e.ExpectColumnValuesToMatchRegex(column="residence_commune_code", regex=r"^\d{5}$"),
        e.ExpectColumnValuesToBeBetween(column="total_cost_vnd", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="drug_lines", min_value=0),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="discharged_at",
            column_B="admitted_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]


def _agg_health_episode_daily_commune() -> list[Expectation]:
    e = gx.expectations
    return [
        e.ExpectTableRowCountToBeBetween(min_value=1),
        e.ExpectColumnValuesToNotBeNull(column="episode_date"),
        e.ExpectColumnValuesToBeBetween(column="episodes", min_value=1),
        # The province lies within these; a centroid outside means a wrong commune join.
        e.ExpectColumnValuesToBeBetween(column="latitude", min_value=9.9, max_value=11.1),
        e.ExpectColumnValuesToBeBetween(column="longitude", min_value=105.0, max_value=107.0),
    ]


KPI_STATUSES = ["met", "not met", "in progress", "no data", "no target"]
KPI_LEVELS = ["commune", "district", "province"]
SUBTRACTIVE_KPIS = ("766-5.3", "766-5.4")


def _fct_kpi_value() -> list[Expectation]:
    """KPI values: keys present and unique, codes in their sets, rates within 0–1.

    No minimum row count yet: the sector KPI models are being added one by one, and a build
    with none of them must still publish the rest (the golden test checks the values)."""
    e = gx.expectations
    return [
        *(
            e.ExpectColumnValuesToNotBeNull(column=column)
            for column in ("kpi_value_id", "kpi_id", "period", "period_type", "admin_code")
        ),
        e.ExpectColumnValuesToBeUnique(column="kpi_value_id"),
        e.ExpectColumnValuesToBeInSet(column="period_type", value_set=["month", "quarter", "year"]),
        e.ExpectColumnValuesToBeInSet(column="admin_level", value_set=KPI_LEVELS),
        e.ExpectColumnValuesToBeInSet(column="structure", value_set=["2025", "legacy"]),
        e.ExpectColumnValuesToBeInSet(column="status", value_set=KPI_STATUSES),
        e.ExpectColumnValuesToMatchRegex(
            column="period", regex=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"
        ),
        # 766-5.3 and 766-5.4 subtract rates from a whole (kpis.md §1): they may go below zero.
        e.ExpectColumnValuesToBeBetween(
            column="value",
            min_value=0,
            max_value=1,
            row_condition=f'unit=="ratio" and kpi_id not in {list(SUBTRACTIVE_KPIS)}',
            condition_parser="pandas",
        ),
        e.ExpectColumnValuesToBeBetween(
            column="value",
            max_value=1,
            row_condition=f"kpi_id in {list(SUBTRACTIVE_KPIS)}",
            condition_parser="pandas",
        ),
        e.ExpectColumnValuesToBeBetween(
            column="numerator",
            min_value=0,
            row_condition=f"kpi_id not in {list(SUBTRACTIVE_KPIS)}",
            condition_parser="pandas",
        ),
        e.ExpectColumnValuesToBeBetween(column="denominator", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="score", min_value=0),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="max_points",
            column_B="score",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]


def _kpi_scorecard() -> list[Expectation]:
    e = gx.expectations
    counts = [
        "indicators_met",
        "indicators_not_met",
        "indicators_in_progress",
        "indicators_no_data",
    ]
    return [
        e.ExpectColumnValuesToNotBeNull(column="scorecard_id"),
        e.ExpectColumnValuesToBeUnique(column="scorecard_id"),
        e.ExpectColumnValuesToBeInSet(column="admin_level", value_set=KPI_LEVELS),
        *(e.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in counts),
        e.ExpectColumnValuesToNotBeNull(column="summary_vi"),
        e.ExpectColumnValuesToNotBeNull(column="summary_en"),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="indicators_tracked", column_B="indicators_met", or_equal=True
        ),
        e.ExpectColumnValuesToBeBetween(column="qd766_points", min_value=0, max_value=100),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="qd766_points_possible",
            column_B="qd766_points",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]


# Published tables counted against the last published warehouse (expectations.gate builds the
# frame): a table that vanished, lost more than half its rows (a source gone missing, a broken
# join) or lost a column the dashboards read is not published.
INVENTORY_TABLE = "meta.warehouse_inventory"
MIN_ROW_RATIO = 0.5


def _warehouse_inventory() -> list[Expectation]:
    e = gx.expectations
    return [
        e.ExpectTableRowCountToBeBetween(min_value=1),
        e.ExpectColumnValuesToNotBeNull(column="rows"),
        e.ExpectColumnValuesToBeBetween(
            column="row_ratio",
            min_value=MIN_ROW_RATIO,
            row_condition="last_rows > 0",
            condition_parser="pandas",
        ),
        e.ExpectColumnValuesToBeBetween(column="columns_lost", max_value=0),
    ]


WAREHOUSE_INVENTORY = MartSuite(INVENTORY_TABLE, _warehouse_inventory)

PUBLISH_SUITES: list[MartSuite] = [
    MartSuite("marts.fct_health_episode", _fct_health_episode),
    MartSuite("marts.agg_health_episode_daily_commune", _agg_health_episode_daily_commune),
    MartSuite("marts.fct_kpi_value", _fct_kpi_value),
    MartSuite("marts.kpi_scorecard", _kpi_scorecard),
]
