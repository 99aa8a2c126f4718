"""Great Expectations suites of the publish gate, as code: one suite for every mart.

A suite states what must hold for a mart to reach the wall. Each is generated from two places:
the mart's dbt contract (keys, not-null columns, code lists, references to other tables; read by
``expectations.contract``) and :data:`MART_RULES` below, which says what dbt's YAML does not:
value ranges (rates within 0–1, amounts and counts not negative, coordinates inside the
province, sensor readings within physical bounds), columns that must be ordered, a minimum row
count for the marts that need no source (calendars, admin units, the KPI catalogue), and the
column whose latest value must not go back from the last published warehouse (freshness). A few
marts add hand-written expectations. Row counts of the marts fed by sources are judged against
the last published warehouse by the inventory suite (a province connects its sources one by
one, so an empty fact mart alone is no reason to refuse). The map layers that geo.layers adds
to the build have hand-written suites (:data:`GEO_SUITES`). The gate reads only the columns a
suite needs, so large facts stay cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
from great_expectations.expectations import Expectation

VISIT_TYPES = ["01", "02", "03", "04", "05", "06", "07", "08", "09"]


@dataclass(frozen=True)
class MartSuite:
    """A mart (``schema.table`` in the build warehouse) and the expectations it must meet.

    ``columns`` are the columns the frame needs (None: all); ``computed`` adds columns the
    gate computes in SQL (``name → expression`` over the mart aliased ``t``). ``new_rows_only``:
    only the rows that the last published warehouse does not hold (the gate's validation of a
    large changed mart, expectations.gate)."""

    table: str
    expectations: Callable[[], list[Expectation]]
    columns: tuple[str, ...] | None = None
    computed: Mapping[str, str] = field(default_factory=dict)
    new_rows_only: bool = False
    frame_number: int = 0  # a part of the rows, read one frame at a time (expectations.gate)

    @property
    def name(self) -> str:
        name = self.table.replace(".", "__") + ("__new_rows" if self.new_rows_only else "")
        return name + (f"__frame_{self.frame_number}" if self.frame_number else "")


def _fct_health_episode() -> list[Expectation]:
    e = gx.expectations
    return [
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

Range = tuple[float | None, float | None]
NOT_NEGATIVE: Range = (0, None)
RATE: Range = (0, 1)
# The new Đồng Tháp (with the former Tiền Giang) lies within these; a point outside is a wrong
# commune join or swapped coordinates.
LATITUDE: Range = (9.9, 11.1)
LONGITUDE: Range = (105.0, 107.0)
ON_THE_MAP = {"latitude": LATITUDE, "longitude": LONGITUDE}


@dataclass(frozen=True)
class MartRules:
    """What a mart's dbt contract does not say (see the module docstring)."""

    ranges: Mapping[str, Range] = field(default_factory=dict)
    ordered: tuple[tuple[str, str], ...] = ()  # (a, b): a ≥ b wherever both are present
    min_rows: int = 0
    freshness: str | None = None
    extra: Callable[[], list[Expectation]] | None = None


def _not_negative(*columns: str) -> dict[str, Range]:
    return dict.fromkeys(columns, NOT_NEGATIVE)


MART_RULES: dict[str, MartRules] = {
    # core
    "dim_admin_unit": MartRules(
        ranges={**ON_THE_MAP, "area_km2": NOT_NEGATIVE},
        ordered=(("valid_to", "valid_from"),),
        min_rows=1,
    ),
    "dim_admin_crosswalk": MartRules(ranges={"share": RATE}, min_rows=1),
    "dim_date": MartRules(
        ranges={
            "month_of_year": (1, 12),
            "day_of_month": (1, 31),
            "quarter_of_year": (1, 4),
            "day_of_week": (0, 7),
            "iso_week": (1, 53),
        },
        min_rows=1,
    ),
    # health
    "dim_facility": MartRules(ranges=ON_THE_MAP),
    "fct_health_episode": MartRules(
        ranges=_not_negative("treatment_days", "insurance_paid_vnd", "drug_cost_vnd"),
        freshness="admission_date",
        extra=_fct_health_episode,
    ),
    "fct_health_drug_line": MartRules(
        ranges=_not_negative("quantity", "unit_price_vnd", "amount_vnd", "insurance_paid_vnd"),
        freshness="ordered_at",
    ),
    "fct_health_service_line": MartRules(
        ranges=_not_negative(
            "quantity",
            "unit_price_vnd",
            "insurance_unit_price_vnd",
            "amount_vnd",
            "insured_amount_vnd",
            "insurance_paid_vnd",
            "patient_paid_vnd",
            "other_sources_vnd",
        ),
        # NGAY_YL may be empty on a line of a specimen sent elsewhere; the admission never is.
        freshness="admission_date",
    ),
    "agg_health_episode_daily_commune": MartRules(
        ranges={"total_cost_vnd": NOT_NEGATIVE},
        freshness="episode_date",
        extra=_agg_health_episode_daily_commune,
    ),
    "fct_ehr_coverage_monthly": MartRules(
        ranges={"ehr_coverage_rate": RATE, **_not_negative("residents", "ehr_persons")},
    ),
    "fct_telemedicine_session": MartRules(
        ranges={"duration_minutes": NOT_NEGATIVE}, freshness="session_date"
    ),
    "fct_booking_appointment": MartRules(freshness="booking_date"),
    # public services
    "dim_procedure": MartRules(
        ranges={"limit_working_days": NOT_NEGATIVE, "fee_vnd": NOT_NEGATIVE},
    ),
    "fct_dossier": MartRules(
        ranges=_not_negative(
            "processing_days",
            "paused_days",
            "supplement_request_count",
            "fee_total_vnd",
            "attachment_count",
            "digitised_attachment_count",
        ),
        ordered=(("attachment_count", "digitised_attachment_count"),),
        freshness="received_on",
    ),
    "fct_dossier_event": MartRules(ranges={"step_number": (1, None)}, freshness="processed_at"),
    "fct_petition": MartRules(
        ranges=_not_negative("working_days_to_handle", "limit_working_days"),
        ordered=(("handled_on", "received_on"),),
        freshness="received_on",
    ),
    # education
    "dim_school": MartRules(ranges={"terms_reported": (1, None)}),
    "fct_enrolment": MartRules(ranges={"pupils": NOT_NEGATIVE}, freshness="export_date"),
    "fct_school_digital_status": MartRules(
        ranges=_not_negative("teachers_total", "teachers_qualified", "classes", "pupils"),
        ordered=(("teachers_total", "teachers_female"), ("teachers_total", "teachers_qualified")),
        freshness="export_date",
    ),
    # agriculture
    "dim_agri_system": MartRules(
        ranges={"freshness_hours": (1, None), "tables_declared": (1, None)}, min_rows=1
    ),
    "fct_agri_system_delivery": MartRules(
        ranges=_not_negative("rows_delivered", "tables_delivered", "delivery_days"),
    ),
    "fct_aquaculture_output": MartRules(ranges={"output_t": NOT_NEGATIVE}, freshness="report_date"),
    "fct_crop_area": MartRules(
        ranges=_not_negative("planted_ha", "harvested_ha", "yield_t_ha"), freshness="report_date"
    ),
    "fct_livestock_census": MartRules(ranges={"headcount": NOT_NEGATIVE}, freshness="report_date"),
    "fct_pest_outbreak": MartRules(
        ranges=_not_negative("infested_ha", "treated_ha"), freshness="report_date"
    ),
    # IoT: physical bounds of the sensors (a reading outside is quarantined at landing)
    "dim_station": MartRules(ranges=ON_THE_MAP),
    "fct_iot_reading_hourly": MartRules(
        ranges={
            "readings": (1, None),
            "salinity_ppt_avg": (0, 45),
            "salinity_ppt_max": (0, 45),
            "ph_avg": (0, 14),
            "do_mg_l_avg": (0, 25),
            "temperature_c_avg": (0, 50),
        },
        ordered=(
            ("salinity_ppt_max", "salinity_ppt_avg"),
            ("water_level_cm_max", "water_level_cm_avg"),
        ),
        freshness="observed_hour",
    ),
    "fct_insect_trap_nightly": MartRules(
        ranges=_not_negative(
            "bph_count", "wbph_count", "glh_count", "rlf_count", "ysb_count", "rbg_count"
        ),
        freshness="night_of",
    ),
    # digital economy and society
    "fct_digital_indicator": MartRules(
        ranges={
            "rate": RATE,
            "published_rate": RATE,
            **_not_negative("numerator", "denominator"),
        },
        ordered=(("denominator", "numerator"),),
    ),
    # KPI layer
    "kpi_catalogue": MartRules(ranges={"max_points": NOT_NEGATIVE}, min_rows=1),
    "kpi_targets": MartRules(min_rows=1),
    "fct_kpi_value": MartRules(ordered=(("period_end", "period_start"),), extra=_fct_kpi_value),
    "kpi_scorecard": MartRules(extra=_kpi_scorecard),
    "kpi_rule_clauses": MartRules(min_rows=1),
    "fct_kpi_contribution": MartRules(ranges=_not_negative("denominator")),
    "kpi_reconciliation": MartRules(
        ranges=_not_negative(
            "hub_denominator",
            "portal_denominator",
            "not_received_count",
            "other_month_count",
            "reconciliation_threshold",
        )
    ),
    # meta
    "meta_source_freshness": MartRules(
        ranges=_not_negative("runs", "failures_since_success", "rows_landed_total"), min_rows=1
    ),
    "meta_quarantine_stats": MartRules(ranges={"quarantined_rows": (1, None)}),
    "alerts": MartRules(ordered=(("ended_at", "started_at"),)),
}


# The map layers (geo.layers) are not dbt models; their suites say what the wall's maps need:
# one zone per current commune and no other, every row a GeoJSON Feature that deck.gl draws (a
# bare geometry draws nothing and reports no error), every point and label inside the province.
IS_FEATURE = (
    "coalesce(json_valid(t.feature) and json_extract_string(t.feature, '$.type') = 'Feature' "
    "and json_extract_string(t.feature, '$.geometry.type') is not null, false)"
)
# dim_admin_unit holds the current structure of the one province the hub serves.
IS_CURRENT_COMMUNE = (
    "exists (select 1 from marts.dim_admin_unit as d where d.is_current "
    "and d.admin_level = 'commune' and d.admin_unit_code = t.commune_code)"
)
ZONE_COMPUTED = {
    "is_feature": IS_FEATURE,
    "is_current_commune": IS_CURRENT_COMMUNE,
    # the same number on every row: the current communes that have no zone
    "current_communes_without_zone": (
        "(select count(*) from marts.dim_admin_unit as d where d.is_current "
        "and d.admin_level = 'commune' and not exists (select 1 from geo.commune_zone as z "
        "where z.commune_code = d.admin_unit_code))"
    ),
}
POINT_COMPUTED = {"is_feature": IS_FEATURE, "is_current_commune": IS_CURRENT_COMMUNE}


def _on_the_map_and_drawable() -> list[Expectation]:
    e = gx.expectations
    return [
        *(
            e.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)
            for column, (low, high) in ON_THE_MAP.items()
        ),
        *(e.ExpectColumnValuesToNotBeNull(column=column) for column in ON_THE_MAP),
        e.ExpectColumnValuesToBeInSet(column="is_feature", value_set=[True]),
    ]


def _province_outline() -> list[Expectation]:
    e = gx.expectations
    return [
        e.ExpectTableRowCountToEqual(value=1),
        e.ExpectColumnValuesToBeBetween(column="area_km2", min_value=0, strict_min=True),
        *_on_the_map_and_drawable(),
    ]


def _commune_zone() -> list[Expectation]:
    e = gx.expectations
    return [
        e.ExpectTableRowCountToBeBetween(min_value=1),
        e.ExpectColumnValuesToNotBeNull(column="commune_code"),
        e.ExpectColumnValuesToBeUnique(column="commune_code"),
        e.ExpectColumnValuesToBeInSet(column="is_current_commune", value_set=[True]),
        e.ExpectColumnValuesToBeBetween(column="current_communes_without_zone", max_value=0),
        e.ExpectColumnValuesToBeInSet(column="zone_source", value_set=["voronoi", "official"]),
        e.ExpectColumnValuesToNotBeNull(column="is_approximate"),
        e.ExpectColumnValuesToBeBetween(column="area_km2", min_value=0, strict_min=True),
        *_on_the_map_and_drawable(),
    ]


def _map_point() -> list[Expectation]:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="point_id"),
        e.ExpectColumnValuesToBeUnique(column="point_id"),
        e.ExpectColumnValuesToBeInSet(
            column="layer", value_set=["facility", "station", "school", "office"]
        ),
        e.ExpectColumnValuesToBeInSet(
            column="location_kind", value_set=["surveyed", "approximate"]
        ),
        e.ExpectColumnValuesToBeInSet(column="is_current_commune", value_set=[True]),
        *_on_the_map_and_drawable(),
    ]


GEO_SUITES = (
    MartSuite(
        "geo.province_outline",
        _province_outline,
        columns=("area_km2", "latitude", "longitude"),
        computed={"is_feature": IS_FEATURE},
    ),
    MartSuite(
        "geo.commune_zone",
        _commune_zone,
        columns=(
            "commune_code",
            "zone_source",
            "is_approximate",
            "area_km2",
            "latitude",
            "longitude",
        ),
        computed=ZONE_COMPUTED,
    ),
    MartSuite(
        "geo.map_point",
        _map_point,
        columns=("point_id", "layer", "location_kind", "latitude", "longitude"),
        computed=POINT_COMPUTED,
    ),
)


def contract_expectations(
    contract: Mapping[str, Any],
    rules: MartRules,
    present: set[str],
    tables: Mapping[str, str],
    previous_max: Any = None,
) -> tuple[list[Expectation], dict[str, str]]:
    """The generated expectations of one mart and the SQL-computed columns they read.

    ``contract`` maps column → expectations.contract.ColumnContract; ``present`` are the
    columns the built mart has (a column the build lost is the inventory suite's finding);
    ``tables`` locates each model (``schema.table``) for references; ``previous_max`` is the
    freshness column's maximum in the last published warehouse."""
    e = gx.expectations
    out: list[Expectation] = [e.ExpectTableRowCountToBeBetween(min_value=rules.min_rows)]
    computed: dict[str, str] = {}
    for column, declared in contract.items():
        if column not in present:
            continue
        if declared.not_null:
            out.append(e.ExpectColumnValuesToNotBeNull(column=column))
        if declared.unique:
            out.append(e.ExpectColumnValuesToBeUnique(column=column))
        if declared.accepted_values is not None:
            out.append(
                e.ExpectColumnValuesToBeInSet(column=column, value_set=declared.accepted_values)
            )
        target = declared.relationship
        if target is not None and target.to_model in tables:
            # Computed in DuckDB: a key absent from the referenced table is false.
            name = f"{column}__in__{target.to_model}"
            computed[name] = (
                f'(t."{column}" is null or exists (select 1 from {tables[target.to_model]} as r '
                f'where r."{target.field}" = t."{column}"))'
            )
            out.append(e.ExpectColumnValuesToBeInSet(column=name, value_set=[True]))
    for column, (low, high) in rules.ranges.items():
        if column in present:
            out.append(
                e.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)
            )
    for a, b in rules.ordered:
        if a in present and b in present:
            out.append(
                e.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing"
                )
            )
    if rules.freshness in present and previous_max is not None:
        out.append(e.ExpectColumnMaxToBeBetween(column=rules.freshness, min_value=previous_max))
    return out, computed
