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


PUBLISH_SUITES: list[MartSuite] = [
    MartSuite("marts.fct_health_episode", _fct_health_episode),
    MartSuite("marts.agg_health_episode_daily_commune", _agg_health_episode_daily_commune),
]
