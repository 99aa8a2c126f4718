"""Health: land the four health sources of the demo province (XML 130 inbox, EHR registry,
telemedicine and booking exports), build the warehouse, and check the health marts and KPI
inputs against the simulator's ground truth (``sim/ground_truth.parquet``) and against the
sources counted independently of dbt.

Every ground-truth row of a health KPI id (``YT-*``, ``OPS-HEALTH-*``) must have its
``int_kpi__health`` row and no more: numerators and denominators exactly, values to 1e-9.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from iochub.pipeline import extract_all
from iochub.settings import Settings
from iochub.warehouse import DbtFailed, run_dbt

pytestmark = pytest.mark.integration

SOURCES = ["health_xml130", "ehr_registry", "health_telemedicine", "health_booking"]
MODEL = "int_kpi__health"
OWN_PATHS = (
    "models/staging/health/",
    "models/intermediate/health/",
    "models/marts/health/",
    "models/intermediate/kpi/int_kpi__health",
)
# The source each KPI id is computed from: when it did not land, the id is not compared.
KPI_NEEDS = {
    "YT-01": ["ehr_registry"],
    "YT-03": ["ehr_registry"],
    "OPS-HEALTH-E-MEDICAL-BOOK": ["ehr_registry"],
    "OPS-HEALTH-REMOTE-BOOKING": ["ehr_registry"],
    "OPS-HEALTH-EPISODES": ["health_xml130"],
    "OPS-HEALTH-FACILITIES-REPORTING": ["health_xml130", "ehr_registry"],
    "OPS-HEALTH-TELEMEDICINE-SESSIONS": ["health_telemedicine", "ehr_registry"],
    "OPS-HEALTH-BOOKINGS": ["health_booking", "ehr_registry"],
}


@pytest.fixture
def built(lake_home: Settings) -> Iterator[tuple[Settings, dict[str, str]]]:
    outcome = extract_all(lake_home, SOURCES)
    for name, error in outcome.failures.items():
        warnings.warn(f"{name} did not land: {error}", stacklevel=1)
    try:
        run_dbt(lake_home, "build")
    except DbtFailed as exc:
        own = _own_dbt_failures(lake_home)
        assert not own, f"dbt failed in the health models: {own}"
        warnings.warn(f"dbt build failed outside the health models: {exc}", stacklevel=1)
    yield lake_home, outcome.failures


def _own_dbt_failures(settings: Settings) -> list[str]:
    target = settings.dbt_project_dir / "target"
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    failed = []
    for result in results["results"]:
        if result["status"] not in ("error", "fail"):
            continue
        path = nodes.get(result["unique_id"], {}).get("original_file_path", "")
        if any(part in path for part in OWN_PATHS):
            failed.append(f"{result['unique_id']}: {result.get('message')}")
    return failed


def _lake(settings: Settings, source: str, table: str) -> str:
    return f"read_parquet('{settings.raw_dir / source / table}/*/*.parquet', union_by_name = true)"


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None, sql
    return row[0]


def _truth_ids(con: duckdb.DuckDBPyConnection, truth: Path) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            f"select distinct kpi_id from read_parquet('{truth}') "
            "where kpi_id like 'YT-%' or kpi_id like 'OPS-HEALTH-%'"
        ).fetchall()
    }


def _mismatches(
    con: duckdb.DuckDBPyConnection, truth: Path, kpi_ids: list[str]
) -> list[tuple[object, ...]]:
    """Rows where int_kpi__health and the ground truth disagree (missing on either side too)."""
    ids = ", ".join(f"'{k}'" for k in kpi_ids)
    return con.execute(
        f"""
        with truth as (
            select * from read_parquet('{truth}') where kpi_id in ({ids})
        ),
        mine as (
            select * from intermediate.{MODEL} where kpi_id in ({ids})
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


def test_health_kpi_inputs_equal_the_ground_truth(
    built: tuple[Settings, dict[str, str]],
) -> None:
    settings, failures = built
    truth = settings.sim_dir / "ground_truth.parquet"
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        truth_ids = _truth_ids(con, truth)
        mine = {
            r[0]
            for r in con.execute(f"select distinct kpi_id from intermediate.{MODEL}").fetchall()
        }
        # Every health id of the ground truth is produced, and nothing the truth does not know.
        assert truth_ids, "the ground truth has no health KPI ids"
        assert mine - truth_ids == set(), f"ids without ground truth: {sorted(mine - truth_ids)}"
        skipped = {k for k in truth_ids if set(KPI_NEEDS.get(k, [])) & set(failures)}
        for k in sorted(skipped):
            warnings.warn(f"{k} not compared: a source it needs did not land", stacklevel=1)
        compared = sorted(truth_ids - skipped)
        assert set(compared) <= mine, f"ids not produced: {sorted(set(compared) - mine)}"
        bad = _mismatches(con, truth, compared)
        assert not bad, f"{len(bad)} rows differ from the ground truth:\n" + "\n".join(
            map(str, bad[:40])
        )
        # Not vacuous: each compared id has rows at the three levels and a non-zero total.
        for k in compared:
            levels = {
                r[0]
                for r in con.execute(
                    f"select distinct admin_level from intermediate.{MODEL} where kpi_id = ?", [k]
                ).fetchall()
            }
            assert levels == {"commune", "district", "province"}, (k, levels)
            total = _one(
                con,
                f"select sum(numerator) from intermediate.{MODEL} "
                f"where kpi_id = '{k}' and admin_level = 'province'",
            )
            assert total > 0, k


def _ehr_counts(settings: Settings) -> tuple[int, int, int] | None:
    """(persons, facilities, residents) counted in the EHR registry database itself."""
    queries = (
        "select count(*) from persons",
        "select count(*) from facilities",
        "select sum(residents) from commune_population",
    )
    values: list[int] = []
    try:
        url = f"{settings.sim_pg_url}/{settings.sim_db_prefix}ehr_registry"
        with psycopg.connect(url, connect_timeout=5) as pg:
            for query in queries:
                row = pg.execute(query).fetchone()
                values.append(int(row[0]) if row else 0)
    except psycopg.OperationalError:
        # No server answered: the simulator wrote the SQLite file instead.
        path = settings.sim_dir / "health" / "ehr_registry.sqlite"
        if not path.exists():
            return None
        with sqlite3.connect(path) as db:
            values = [int(db.execute(query).fetchone()[0]) for query in queries]
    return values[0], values[1], values[2]


def _csv_ids(folder: Path, pattern: str, column: str) -> set[str]:
    ids: set[str] = set()
    for path in sorted(folder.glob(pattern)):
        with path.open(encoding="utf-8", newline="") as handle:
            ids.update(row[column] for row in csv.DictReader(handle))
    return ids


def test_health_facts_add_up_to_the_sources(built: tuple[Settings, dict[str, str]]) -> None:
    settings, failures = built
    assert "health_xml130" not in failures, "the XML 130 inbox did not land"
    xml1 = _lake(settings, "health_xml130", "xml1")
    xml2 = _lake(settings, "health_xml130", "xml2")
    quarantine = settings.quarantine_dir / "health_xml130"
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        # Episodes: one per (facility, MA_LK) landed, whatever the re-sends.
        landed = _one(con, f"select count(distinct (MA_CSKCB, MA_LK)) from {xml1}")
        assert landed > 0
        assert _one(con, "select count(*) from marts.fct_health_episode") == landed
        resent = _one(
            con,
            f"select count(*) from (select MA_LK from {xml1} group by MA_CSKCB, MA_LK "
            "having count(*) > 1)",
        )
        assert resent > 0, "the province should re-send some episodes"
        # Each episode's drug lines once: distinct line keys of the landed episodes.
        lines = _one(
            con,
            f"""
            select count(*) from (
                select distinct x2._facility_code, x2.MA_LK, x2.STT
                from {xml2} as x2
                semi join {xml1} as x1
                    on x2._facility_code = x1.MA_CSKCB and x2.MA_LK = x1.MA_LK
            )
            """,
        )
        assert _one(con, "select count(*) from marts.fct_health_drug_line") == lines
        assert _one(con, "select sum(drug_lines) from marts.fct_health_episode") == lines
        # Every landed episode resolves to a current commune (unknown codes are quarantined).
        assert (
            _one(
                con,
                "select count(*) from marts.fct_health_episode where current_commune_code is null",
            )
            == 0
        )
        # Readable episodes = landed ∪ quarantined for their values, read from the lake here.
        rejected: set[tuple[str, str]] = set()
        for path in quarantine.glob("load_date=*/*.parquet"):
            for table, raw in con.execute(
                f"select table_name, raw_content from read_parquet('{path}')"
            ).fetchall():
                if table == "xml1":
                    row = json.loads(bytes(raw).decode("utf-8"))
                    rejected.add((row["MA_CSKCB"], row["MA_LK"]))
        landed_keys = {
            (a, b) for a, b in con.execute(f"select MA_CSKCB, MA_LK from {xml1}").fetchall()
        }
        assert rejected, "the province should have episodes quarantined for their values"
        readable = _one(con, "select count(*) from intermediate.int_health__episodes_readable")
        assert readable == len(landed_keys | rejected)

        if "ehr_registry" not in failures:
            counts = _ehr_counts(settings)
            assert counts is not None, "the EHR registry database was not found"
            persons, facilities, residents = counts
            assert _one(con, "select count(*) from marts.dim_facility") == facilities
            assert (
                _one(con, "select count(*) from intermediate.int_health__ehr_persons_latest")
                == persons
            )
            last = _one(con, "select max(period) from marts.fct_ehr_coverage_monthly")
            got_persons, got_residents = con.execute(
                "select sum(ehr_persons), sum(residents) from marts.fct_ehr_coverage_monthly "
                "where period = ?",
                [last],
            ).fetchone() or (None, None)
            # Every record was created by the run's last day, so the last month has them all.
            assert (got_persons, got_residents) == (persons, residents)

        if "health_telemedicine" not in failures:
            sessions = _csv_ids(settings.sim_dir / "health" / "telemedicine", "*.csv", "session_id")
            assert _one(con, "select count(*) from marts.fct_telemedicine_session") == len(sessions)
        if "health_booking" not in failures:
            bookings = _csv_ids(settings.sim_dir / "health" / "booking", "*.csv", "booking_id")
            assert bookings
            assert _one(con, "select count(*) from marts.fct_booking_appointment") == len(bookings)
