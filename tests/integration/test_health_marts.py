"""Health marts against the four health sources of the demo province (XML 130 inbox, EHR
registry, telemedicine and booking exports) counted independently of dbt. The health KPIs are
compared with the ground truth with every other KPI in ``test_kpi_golden.py``.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from iochub.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def built(province_warehouse: Settings) -> Settings:
    """The whole province landed and built once per session (``tests/conftest.py``)."""
    return province_warehouse


def _lake(settings: Settings, source: str, table: str) -> str:
    return f"read_parquet('{settings.raw_dir / source / table}/*/*.parquet', union_by_name = true)"


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None, sql
    return row[0]


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


def test_health_facts_add_up_to_the_sources(built: Settings) -> None:
    settings = built
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

        counts = _ehr_counts(settings)
        assert counts is not None, "the EHR registry database was not found"
        persons, facilities, residents = counts
        assert _one(con, "select count(*) from marts.dim_facility") == facilities
        assert (
            _one(con, "select count(*) from intermediate.int_health__ehr_persons_latest") == persons
        )
        last = _one(con, "select max(period) from marts.fct_ehr_coverage_monthly")
        got_persons, got_residents = con.execute(
            "select sum(ehr_persons), sum(residents) from marts.fct_ehr_coverage_monthly "
            "where period = ?",
            [last],
        ).fetchone() or (None, None)
        # Every record was created by the run's last day, so the last month has them all.
        assert (got_persons, got_residents) == (persons, residents)

        sessions = _csv_ids(settings.sim_dir / "health" / "telemedicine", "*.csv", "session_id")
        assert _one(con, "select count(*) from marts.fct_telemedicine_session") == len(sessions)
        bookings = _csv_ids(settings.sim_dir / "health" / "booking", "*.csv", "booking_id")
        assert bookings
        assert _one(con, "select count(*) from marts.fct_booking_appointment") == len(bookings)
