"""Health marts against the four health sources of the demo province (XML 130 inbox, EHR
registry, telemedicine and booking exports) counted independently of dbt. The health KPIs are
compared with the ground truth with every other KPI in ``test_kpi_golden.py``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
import sqlite3
import xml.etree.ElementTree as ET
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


LineKey = tuple[str, str, str]  # (facility of the wrapper, MA_LK, STT)
# Where each table's rows sit in its decoded document (Decision 130/QĐ-BYT, 4750).
LINE_ITEMS = {
    "XML3": "DSACH_CHI_TIET_DVKT/CHI_TIET_DVKT",
    "XML4": "DSACH_CHI_TIET_CLS/CHI_TIET_CLS",
}


def _readable_line_items(inbox: Path) -> dict[str, dict[LineKey, dict[str, str]]]:
    """XML3 and XML4 rows of every readable file of the inbox, read with the standard library
    alone: a file that is not well-formed, whose episode count is wrong or whose payloads are
    not all valid base64 is skipped whole, as landing quarantines it whole. An episode re-sent
    in several files gives the same rows each time; each line counts once."""
    items: dict[str, dict[LineKey, dict[str, str]]] = {table: {} for table in LINE_ITEMS}
    for path in sorted(inbox.rglob("*.xml")):
        try:
            root = ET.fromstring(path.read_bytes())
        except ET.ParseError:
            continue
        facility = (root.findtext("THONGTINDONVI/MACSKCB") or "").strip()
        episodes = root.findall("THONGTINHOSO/DANHSACHHOSO/HOSO")
        declared = (root.findtext("THONGTINHOSO/SOLUONGHOSO") or "").strip()
        if declared.isdigit() and int(declared) != len(episodes):
            continue
        documents: list[tuple[str, bytes]] = []
        try:
            for filehoso in root.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO/FILEHOSO"):
                payload = "".join((filehoso.findtext("NOIDUNGFILE") or "").split())
                table = (filehoso.findtext("LOAIHOSO") or "").strip().upper()
                documents.append((table, base64.b64decode(payload, validate=True)))
        except binascii.Error:
            continue
        for table, document in documents:
            if table not in LINE_ITEMS:
                continue
            for row in ET.fromstring(document).iterfind(LINE_ITEMS[table]):
                fields = {child.tag: (child.text or "").strip() for child in row}
                items[table][(facility, fields["MA_LK"], fields["STT"])] = fields
    return items


def _quarantined(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, set[tuple[str, ...]]]:
    """Keys of the rows landing rejected, by table: xml1 (facility, MA_LK), others with STT."""
    keys: dict[str, set[tuple[str, ...]]] = {"xml1": set(), "xml3": set(), "xml4": set()}
    for path in folder.glob("load_date=*/*.parquet"):
        for table, raw in con.execute(
            f"select table_name, raw_content from read_parquet('{path}')"
        ).fetchall():
            if table not in keys:
                continue
            row = json.loads(bytes(raw).decode("utf-8"))
            if table == "xml1":
                keys[table].add((row["MA_CSKCB"], row["MA_LK"]))
            else:
                keys[table].add((row["_facility_code"], row["MA_LK"], row["STT"]))
    return keys


def test_service_lines_and_results_add_up_to_the_files(built: Settings) -> None:
    settings = built
    items = _readable_line_items(settings.sim_dir / "health" / "xml130" / "inbox")
    assert items["XML3"] and items["XML4"], "the province should send XML3 and XML4 tables"
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        rejected = _quarantined(con, settings.quarantine_dir / "health_xml130")
        assert rejected["xml1"], "the province should have episodes quarantined for their values"

        def kept(table: str, lake_table: str) -> dict[LineKey, dict[str, str]]:
            return {
                key: fields
                for key, fields in items[table].items()
                if key[:2] not in rejected["xml1"] and key not in rejected[lake_table]
            }

        lines = kept("XML3", "xml3")
        # Lines of episodes quarantined for their values are in the files, not in the fact.
        assert len(lines) < len(items["XML3"])
        got = con.execute(
            "select count(*), sum(quantity), sum(amount_vnd), sum(insurance_paid_vnd), "
            "count(*) filter (where is_supply) from marts.fct_health_service_line"
        ).fetchone()
        assert got is not None
        expected = (
            len(lines),
            sum(float(f["SO_LUONG"]) for f in lines.values()),
            sum(float(f["THANH_TIEN_BV"]) for f in lines.values()),
            sum(float(f["T_BHTT"]) for f in lines.values()),
            sum(1 for f in lines.values() if f.get("MA_VAT_TU")),
        )
        assert got == pytest.approx(expected)
        assert expected[4] > 0, "the province should send supply lines"
        # Every line of the fact has its episode's current commune and admission day.
        assert (
            _one(
                con,
                "select count(*) from marts.fct_health_service_line "
                "where current_commune_code is null or admission_date is null",
            )
            == 0
        )
        by_group = dict(
            con.execute(
                "select service_group_code, count(*) from marts.fct_health_service_line group by 1"
            ).fetchall()
        )
        groups: dict[int, int] = {}
        for fields in lines.values():
            group = int(fields["MA_NHOM"])
            groups[group] = groups.get(group, 0) + 1
        assert by_group == groups

        results = kept("XML4", "xml4")
        assert results
        latest = "intermediate.int_health_paraclinical_results_latest"
        assert _one(con, f"select count(*) from {latest}") == len(results)
        values = dict(
            con.execute(
                f"select facility_code || '|' || episode_id || '|' || line_no, result_value "
                f"from {latest}"
            ).fetchall()
        )
        assert values == {"|".join(key): f["GIA_TRI"] or None for key, f in results.items()}
