"""Education, statistics, IoT and agriculture: land the sectors' sources from the demo province,
build the warehouse, and check the sector marts and KPI inputs against the lake and the
simulator's ground truth (``sim/ground_truth.parquet``): every ground-truth row of the sectors'
KPI ids has its int_kpi__* row and no more — numerators and denominators exactly (counts and
sums), values to 1e-9 — and the facts add up to what was landed.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.registry import load_registry
from iochub.pipeline import extract_all
from iochub.settings import Settings
from iochub.warehouse import DbtFailed, run_dbt

pytestmark = pytest.mark.integration

SECTORS = ("education", "statistics", "iot", "agriculture")
KPI_MODELS = {
    "education": "int_kpi__education",
    "statistics": "int_kpi__statistics",
    "iot": "int_kpi__iot",
    "agriculture": "int_kpi__agriculture",
}
# Model paths of these sectors: a dbt failure in one of them fails the test; a failure elsewhere
# in the project (another sector being built at the same time) only warns.
OWN_PATHS = tuple(
    f"models/{layer}/{sector}/"
    for layer in ("staging", "intermediate", "marts")
    for sector in SECTORS
) + tuple(f"models/intermediate/kpi/int_kpi__{sector}" for sector in SECTORS)
# Sources whose failure to land makes the KPI's comparison meaningless (they are skipped, with a
# warning, when these sources did not land; iot_mqtt is optional: the CSV dumps are complete).
KPI_NEEDS = {
    "GD-01": ["education_exports"],
    "OPS-SCHOOLS-DIGITAL": ["education_exports"],
    "OPS-ENROLMENT": ["education_exports"],
    "OPS-IOT-STATIONS-REPORTING": ["iot_csv_backfill"],
    "OPS-IOT-SALINITY-ALERTS": ["iot_csv_backfill"],
    "OPS-INSECT-DENSITY-ALERTS": ["iot_csv_backfill"],
    "OPS-AGRI-PLANTED-AREA-HA": ["agri_tt01"],
}


@pytest.fixture
def built(lake_home: Settings) -> Iterator[tuple[Settings, dict[str, str]]]:
    names = [n for n, s in load_registry(lake_home).items() if s.sector in SECTORS]
    outcome = extract_all(lake_home, names)
    for name, error in outcome.failures.items():
        warnings.warn(f"{name} did not land: {error}", stacklevel=1)
    try:
        run_dbt(lake_home, "build")
    except DbtFailed as exc:
        own = _own_dbt_failures(lake_home)
        assert not own, f"dbt failed in this sector's models: {own}"
        warnings.warn(f"dbt build failed outside these sectors' models: {exc}", stacklevel=1)
    yield lake_home, outcome.failures


def _own_dbt_failures(settings: Settings) -> list[str]:
    results = json.loads(
        (settings.dbt_project_dir / "target" / "run_results.json").read_text(encoding="utf-8")
    )
    manifest = json.loads(
        (settings.dbt_project_dir / "target" / "manifest.json").read_text(encoding="utf-8")
    )
    nodes = manifest["nodes"]
    failed = []
    for result in results["results"]:
        if result["status"] not in ("error", "fail"):
            continue
        node = nodes.get(result["unique_id"], {})
        path = node.get("original_file_path", "")
        if any(part in path for part in OWN_PATHS):
            failed.append(f"{result['unique_id']}: {result.get('message')}")
    return failed


def _lake(settings: Settings, source: str, table: str) -> str:
    return f"read_parquet('{settings.raw_dir / source / table}/*/*.parquet', union_by_name = true)"


def _sector_kpi_ids(con: duckdb.DuckDBPyConnection, model: str) -> list[str]:
    return [
        r[0] for r in con.execute(f"select distinct kpi_id from intermediate.{model}").fetchall()
    ]


def _mismatches(
    con: duckdb.DuckDBPyConnection, truth: Path, model: str, kpi_ids: list[str]
) -> list[tuple[object, ...]]:
    """Rows where the model and the ground truth disagree (missing on either side included)."""
    ids = ", ".join(f"'{k}'" for k in kpi_ids)
    return con.execute(
        f"""
        with truth as (
            select * from read_parquet('{truth}') where kpi_id in ({ids})
        ),
        mine as (
            select * from intermediate.{model} where kpi_id in ({ids})
        )
        select
            coalesce(truth.kpi_id, mine.kpi_id) as kpi_id,
            coalesce(truth.period, mine.period) as period,
            coalesce(truth.admin_level, mine.admin_level) as admin_level,
            coalesce(truth.admin_code, mine.admin_code) as admin_code,
            truth.structure as truth_structure,
            mine.structure as structure,
            truth.numerator as truth_numerator,
            mine.numerator,
            truth.denominator as truth_denominator,
            mine.denominator,
            truth.value as truth_value,
            mine.value
        from truth
        full join mine
            on
                truth.kpi_id = mine.kpi_id
                and truth.period = mine.period
                and truth.admin_level = mine.admin_level
                and truth.admin_code = mine.admin_code
        where
            truth.kpi_id is null
            or mine.kpi_id is null
            or truth.structure != mine.structure
            or truth.numerator != mine.numerator
            or truth.denominator != mine.denominator
            or (truth.value is null) != (mine.value is null)
            or abs(truth.value - mine.value) > 1e-9
        order by 1, 2, 3, 4
        """
    ).fetchall()


def test_kpi_inputs_equal_the_ground_truth(built: tuple[Settings, dict[str, str]]) -> None:
    settings, failures = built
    truth = settings.sim_dir / "ground_truth.parquet"
    agri_sources = [n for n, s in load_registry(settings).items() if s.sector == "agriculture"]
    needs = {**KPI_NEEDS, "OPS-AGRI-SYSTEMS-OPERATING": agri_sources}
    checked: dict[str, int] = {}
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        truth_ids = {
            r[0] for r in con.execute(f"select kpi_id from read_parquet('{truth}')").fetchall()
        }
        for sector, model in KPI_MODELS.items():
            ids = _sector_kpi_ids(con, model)
            assert ids, f"{model} is empty"
            missing_in_truth = sorted(set(ids) - truth_ids)
            assert not missing_in_truth, f"{model}: ids the simulator has no truth for"
            kept = [k for k in ids if not set(needs.get(k, [])) & set(failures)]
            for k in sorted(set(ids) - set(kept)):
                warnings.warn(f"{k} not compared: a source it needs did not land", stacklevel=1)
            bad = _mismatches(con, truth, model, kept)
            assert not bad, (
                f"{sector}: {len(bad)} rows differ from the ground truth:\n"
                + "\n".join(map(str, bad[:40]))
            )
            for k in kept:
                (n,) = con.execute(
                    f"select count(*) from intermediate.{model} where kpi_id = ?", [k]
                ).fetchone() or (0,)
                checked[k] = n
    # every KPI id of these sectors in the ground truth was produced (and compared)
    expected = {
        "GD-01",
        "OPS-SCHOOLS-DIGITAL",
        "OPS-ENROLMENT",
        "XH-01",
        "XH-02",
        "XH-03",
        "XH-04",
        "KT-01",
        "KT-02",
        "OPS-SME-ECOM",
        "OPS-OCOP-ONLINE",
        "OPS-IOT-STATIONS-REPORTING",
        "OPS-IOT-SALINITY-ALERTS",
        "OPS-INSECT-DENSITY-ALERTS",
        "OPS-AGRI-SYSTEMS-OPERATING",
        "OPS-AGRI-PLANTED-AREA-HA",
    }
    skipped = {k for k, srcs in needs.items() if set(srcs) & set(failures)}
    assert expected & truth_ids - skipped <= set(checked), sorted(expected - set(checked))
    assert all(n > 0 for n in checked.values()), checked


def test_facts_add_up_to_the_landed_lake(built: tuple[Settings, dict[str, str]]) -> None:
    settings, failures = built
    hoc_sinh = _lake(settings, "education_exports", "hoc_sinh")
    truong = _lake(settings, "education_exports", "truong")
    chi_tieu = _lake(settings, "statistics_feed", "chi_tieu")
    water = _lake(settings, "iot_csv_backfill", "water_readings")
    traps = _lake(settings, "iot_csv_backfill", "light_trap_counts")
    stations = _lake(settings, "iot_csv_backfill", "stations")
    with duckdb.connect(str(settings.build_db), read_only=True) as con:

        def one(sql: str) -> Any:
            row = con.execute(sql).fetchone()
            assert row is not None
            return row[0]

        # enrolment: the pupils of the facts (boys + girls) are the workbooks' totals
        lake_pupils = one(
            f"""select sum(total) from (
                select distinct _source_file, ma_truong, khoi_lop,
                    so_hoc_sinh__tong_so as total from {hoc_sinh})"""
        )
        assert lake_pupils and lake_pupils > 0
        assert one("select sum(pupils) from marts.fct_enrolment") == lake_pupils
        lake_grades = one(
            f"select count(distinct (_source_file, ma_truong, khoi_lop)) from {hoc_sinh}"
        )
        assert one("select count(*) from marts.fct_enrolment") == 2 * lake_grades
        assert one("select count(*) from marts.dim_school") == one(
            f"select count(distinct ma_truong) from {truong}"
        )
        assert one("select count(*) from marts.fct_school_digital_status") == one(
            f"select count(distinct (_source_file, ma_truong)) from {truong}"
        )
        # statistics: one fact row per published key
        assert one("select count(*) from marts.fct_digital_indicator") == one(
            f"""select count(distinct (ky_bao_cao, cap, ma_tinh, coalesce(ma_huyen, ''),
                coalesce(ma_xa, ''), ma_chi_tieu)) from {chi_tieu}"""
        )
        # IoT: every landed reading counted once in the hourly fact, every trap-night once (the
        # CSV dumps and the MQTT stream, de-duplicated by message id)
        water_ids = f"select message_id from {water}"
        trap_ids = f"select message_id from {traps}"
        if "iot_mqtt" not in failures and (settings.raw_dir / "iot_mqtt").exists():
            for table in ("water_readings", "light_trap_counts"):
                if not (settings.raw_dir / "iot_mqtt" / table).exists():
                    continue
                ids = f" union select message_id from {_lake(settings, 'iot_mqtt', table)}"
                if table == "water_readings":
                    water_ids += ids
                else:
                    trap_ids += ids
        assert one("select sum(readings) from marts.fct_iot_reading_hourly") == one(
            f"select count(distinct message_id) from ({water_ids})"
        )
        assert one("select count(*) from marts.fct_insect_trap_nightly") == one(
            f"select count(distinct message_id) from ({trap_ids})"
        )
        assert one("select count(*) from marts.dim_station") == one(
            f"select count(distinct station_code) from {stations}"
        )
        # agriculture: the registry's systems, and every landed system-month delivered
        agri = [n for n, s in load_registry(settings).items() if s.sector == "agriculture"]
        assert one("select count(*) from marts.dim_agri_system") == len(agri)
        landed = [n for n in agri if n not in failures and (settings.raw_dir / n).exists()]
        months = set()
        for name in landed:
            for table in sorted(p.name for p in (settings.raw_dir / name).iterdir()):
                rows = con.execute(
                    f"""select distinct strftime(cast(report_date as date), '%Y-%m')
                    from {_lake(settings, name, table)}"""
                ).fetchall()
                months |= {(name.removeprefix("agri_").upper(), r[0]) for r in rows}
        delivered = set(
            con.execute(
                "select system_code, period from marts.fct_agri_system_delivery where is_delivered"
            ).fetchall()
        )
        assert delivered == months
        if "agri_tt01" not in failures:
            assert one(
                "select count(*) from marts.fct_crop_area where system_code = 'TT01'"
            ) == one(
                f"select count(distinct record_id) from {_lake(settings, 'agri_tt01', 'crop_area')}"
            )
