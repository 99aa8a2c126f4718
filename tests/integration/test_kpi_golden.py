"""Golden test of the KPI layer: every month row the warehouse computes equals the simulator's
ground truth, and quarter rows are the roll-up of their months.

The whole province (session fixture ``province``: scale 0.01, June–October 2025) is extracted
into a fresh lake, dbt builds the warehouse, and every month row of ``marts.fct_kpi_value``
whose indicator has ground truth is compared with ``sim/ground_truth.parquet``: counts exactly,
rates to 1e-9. The indicators checked are the ones the warehouse computes; ground-truth
indicators it does not compute yet are reported (printed), and are a failure only when listed
in ``REQUIRED_KPIS`` (add an id there once its sector model exists).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from iochub.settings import Settings
from tests.registry_counted import registry_scales

pytestmark = pytest.mark.integration

# Indicators whose sector models exist: each must be computed and match. Extend as sector
# models land (an id in the ground truth and not computed is otherwise only reported).
REQUIRED_KPIS: frozenset[str] = frozenset(
    {
        # public services (one-stop database and the QĐ 766 feed)
        *(
            f"766-{n}"
            for n in [
                "1.1",
                "1.2",
                "1.3",
                "1.4",
                "2.1",
                "2.2",
                "3.1",
                "3.2",
                "3.3",
                "3.5",
                "3.6",
                "4.1",
                "4.2",
                "4.3",
                "4.4",
                "4.5a",
                "4.5b",
                "5.2",
                "5.3",
                "5.4",
            ]
        ),
        "OPS-OVERDUE-DOSSIERS",
        # the DTI's public-service indicators, read as 766-3.2, 766-3.3r and 766-4.2
        "CQ-01",
        "CQ-02",
        "CQ-03",
        # statistics
        "XH-01",
        "XH-02",
        "XH-03",
        "XH-04",
        "KT-01",
        "KT-02",
        "OPS-SME-ECOM",
        "OPS-OCOP-ONLINE",
        # education
        "GD-01",
        "OPS-SCHOOLS-DIGITAL",
        "OPS-ENROLMENT",
        # agriculture
        "OPS-AGRI-PLANTED-AREA-HA",
        "OPS-AGRI-SYSTEMS-OPERATING",
        # health
        "YT-01",
        "YT-03",
        "OPS-HEALTH-EPISODES",
        "OPS-HEALTH-FACILITIES-REPORTING",
        "OPS-HEALTH-TELEMEDICINE-SESSIONS",
        "OPS-HEALTH-BOOKINGS",
        "OPS-HEALTH-E-MEDICAL-BOOK",
        "OPS-HEALTH-REMOTE-BOOKING",
        # iot
        "OPS-IOT-STATIONS-REPORTING",
        "OPS-IOT-SALINITY-ALERTS",
        "OPS-INSECT-DENSITY-ALERTS",
    }
)

KEY = ("kpi_id", "period", "admin_level", "admin_code")
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Comparison:
    compared: set[str]  # ids present in both the warehouse and the ground truth
    not_computed: list[str]  # ground-truth ids the warehouse has no row of
    mismatches: list[str]  # one line per differing row (kpi, period, level, code, exp, got)
    missing: list[str]  # ground-truth rows of a compared id absent from the warehouse
    extra: list[str]  # warehouse rows of a compared id absent from the ground truth
    rows_compared: int


def _close(expected: float | None, got: float | None) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    return math.isclose(expected, got, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def _none(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _scaled(
    row: tuple[float | None, ...], scale: Fraction
) -> tuple[float | None, float | None, float | None]:
    """A ground-truth (numerator, denominator, value) counted over ``scale`` times as many
    systems (tests/registry_counted.py)."""
    numerator, denominator, value = row
    if scale == 1 or denominator is None:
        return numerator, denominator, value
    return (
        numerator,
        denominator * float(scale),
        None if value is None else value / float(scale),
    )


def compare_with_ground_truth(
    build_db: Path, ground_truth: Path, scales: dict[str, Fraction] | None = None
) -> Comparison:
    """Compare the month rows of fct_kpi_value with the ground truth, row by row.

    Counts carry denominator 1 in the ground truth and may carry none in the warehouse (the
    KPI contract): a missing denominator compares as 1. Value and numerator are compared for
    every row, the denominator when either side has one. ``scales`` (``registry_scales``) counts
    the registry's systems the simulator does not know.
    """
    with duckdb.connect(str(build_db), read_only=True) as con:
        got_rows = con.execute(
            "select kpi_id, period, admin_level, admin_code, numerator, denominator, value "
            "from marts.fct_kpi_value where period_type = 'month'"
        ).fetchall()
        truth_rows = con.execute(
            "select kpi_id, period, admin_level, admin_code, numerator, denominator, value "
            "from read_parquet(?)",
            [str(ground_truth)],
        ).fetchall()
    got = {tuple(r[:4]): tuple(_none(v) for v in r[4:]) for r in got_rows}
    scales = scales or {}
    truth = {
        tuple(r[:4]): _scaled(tuple(_none(v) for v in r[4:]), scales.get(r[0], Fraction(1)))
        for r in truth_rows
    }
    truth_ids = {key[0] for key in truth}
    got_ids = {key[0] for key in got}
    compared = got_ids & truth_ids
    mismatches, missing, extra = [], [], []
    rows = 0
    for key in sorted(k for k in truth if k[0] in compared):
        if key not in got:
            missing.append(f"{key}: expected {truth[key]}, not in fct_kpi_value")
            continue
        rows += 1
        (e_num, e_den, e_val), (g_num, g_den, g_val) = truth[key], got[key]
        if e_den is None and g_den is None:
            same_den = True
        else:
            same_den = _close(1.0 if e_den is None else e_den, 1.0 if g_den is None else g_den)
        if not (_close(e_val, g_val) and _close(e_num, g_num) and same_den):
            kpi, period, level, code = key
            mismatches.append(
                f"{kpi} {period} {level} {code}: expected {e_num}/{e_den}={e_val}, "
                f"got {g_num}/{g_den}={g_val}"
            )
    for key in sorted(k for k in got if k[0] in compared and k not in truth):
        extra.append(f"{key}: got {got[key]}, not in the ground truth")
    return Comparison(
        compared=compared,
        not_computed=sorted(truth_ids - got_ids),
        mismatches=mismatches,
        missing=missing,
        extra=extra,
        rows_compared=rows,
    )


def _limited(lines: list[str], limit: int = 200) -> str:
    more = f"\n  … and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n  " + "\n  ".join(lines[:limit]) + more


@pytest.fixture(scope="module")
def built_province(province_warehouse: Settings) -> Settings:
    """The whole province extracted and built once (``tests/conftest.py``)."""
    return province_warehouse


def built_nodes(settings: Settings) -> dict[str, str]:
    """dbt's status of every node of the last build of ``settings`` (run_results.json)."""
    results = json.loads((settings.home / "dbt_target" / "run_results.json").read_text())
    return {r["unique_id"]: r["status"] for r in results["results"]}


def test_kpi_layer_built(built_province: Settings) -> None:
    """The KPI marts and every kpi_input model built, and their dbt tests passed."""
    statuses = built_nodes(built_province)
    broken = {
        node: status
        for node, status in statuses.items()
        if status not in ("success", "pass")
        and any(
            part in node
            for part in ("fct_kpi_value", "kpi_scorecard", "int_kpi__", "meta_source_", "meta_qua")
        )
    }
    failed_elsewhere = sorted(
        node for node, status in statuses.items() if status not in ("success", "pass")
    )
    print(f"\nnodes that failed or were skipped in this build: {failed_elsewhere or 'none'}")
    assert statuses.get("model.iochub.fct_kpi_value") == "success"
    assert statuses.get("model.iochub.kpi_scorecard") == "success"
    assert not broken, f"KPI layer nodes failed: {broken}"


def test_month_rows_match_ground_truth(built_province: Settings) -> None:
    result = compare_with_ground_truth(
        built_province.build_db,
        built_province.sim_dir / "ground_truth.parquet",
        registry_scales(built_province),
    )
    print(
        f"\nKPI golden test: {result.rows_compared} month rows compared for "
        f"{len(result.compared)} indicator(s): {', '.join(sorted(result.compared))}"
        f"\nground-truth indicators not computed yet: {', '.join(result.not_computed) or 'none'}"
    )
    assert result.compared, "no KPI of the ground truth is computed by fct_kpi_value"
    assert not result.mismatches, (
        f"{len(result.mismatches)} month row(s) differ from the ground truth "
        f"(kpi period level code: expected numerator/denominator=value, got …):"
        + _limited(result.mismatches)
    )
    assert not result.missing, (
        f"{len(result.missing)} ground-truth row(s) of computed KPIs are missing:"
        + _limited(result.missing)
    )
    assert not result.extra, (
        f"{len(result.extra)} row(s) of computed KPIs are not in the ground truth:"
        + _limited(result.extra)
    )
    required_missing = sorted(REQUIRED_KPIS - result.compared)
    assert not required_missing, f"required KPIs not computed: {required_missing}"


def check_rollups(build_db: Path) -> tuple[int, list[str]]:
    """Recompute every quarter and year row of fct_kpi_value from its month rows (ratio: Σ
    numerators / Σ denominators; sum: Σ values; last: the last month's row) and list the rows
    that differ. Returns (rows checked, differences)."""
    query = """
        with months as (
            select *, substr(period, 1, 4) as y,
                substr(period, 1, 4) || '-Q'
                    || cast((cast(substr(period, 6, 2) as integer) + 2) // 3 as varchar) as q
            from marts.fct_kpi_value where period_type = 'month'
        ),
        expected as (
            select kpi_id, p as period, admin_level, admin_code, any_value(period_aggregation) agg,
                sum(numerator) sum_num, sum(denominator) sum_den, sum(value) sum_val,
                arg_max(value, period) last_val, count(*) n
            from (
                select *, q as p from months union all select *, y as p from months
            )
            group by kpi_id, p, admin_level, admin_code
        )
        select e.kpi_id, e.period, e.admin_level, e.admin_code, e.agg, e.n,
            case e.agg
                when 'ratio' then e.sum_num / nullif(e.sum_den, 0)
                when 'sum' then e.sum_val
                when 'last' then e.last_val
            end as expected_value,
            f.value as got_value, f.months_covered, f.period is null as absent
        from expected e
        left join marts.fct_kpi_value f
            on f.kpi_id = e.kpi_id and f.period = e.period
            and f.admin_level = e.admin_level and f.admin_code = e.admin_code
        where e.agg != 'month_only'
    """
    with duckdb.connect(str(build_db), read_only=True) as con:
        rows = con.execute(query).fetchall()
        orphans = con.execute(
            "select count(*) from marts.fct_kpi_value where period_type != 'month' "
            "and period_aggregation = 'month_only'"
        ).fetchall()[0][0]
    problems = [f"{orphans} quarter/year row(s) of month_only indicators"] if orphans else []
    for kpi, period, level, code, agg, n, expected, got, covered, absent in rows:
        if absent:
            problems.append(f"{kpi} {period} {level} {code}: no {agg} roll-up row")
        elif not _close(_none(expected), _none(got)) or covered != n:
            problems.append(
                f"{kpi} {period} {level} {code} ({agg}): expected {expected} over {n} "
                f"month(s), got {got} over {covered}"
            )
    return len(rows), problems


def test_quarters_and_years_roll_up_months(built_province: Settings) -> None:
    checked, problems = check_rollups(built_province.build_db)
    assert checked, "no quarter or year row to check"
    assert not problems, "roll-ups differ from their months:" + _limited(problems)


def test_kpi_inputs_are_built_before_fct_kpi_value(built_province: Settings) -> None:
    """dbt's DAG: fct_kpi_value depends on every model tagged kpi_input."""
    target = built_province.home / "dbt_target"
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = manifest["nodes"]
    inputs = {
        key
        for key, node in nodes.items()
        if node["resource_type"] == "model" and "kpi_input" in node["tags"]
    }
    depends = set(nodes["model.iochub.fct_kpi_value"]["depends_on"]["nodes"])
    assert inputs <= depends, f"kpi_input models not upstream of fct_kpi_value: {inputs - depends}"
    run_results = json.loads((target / "run_results.json").read_text())
    order = [r["unique_id"] for r in run_results["results"]]
    fct = order.index("model.iochub.fct_kpi_value")
    assert all(order.index(i) < fct for i in inputs if i in order)
