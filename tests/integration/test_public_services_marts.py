"""Public services: land the one-stop dossier system and the QĐ 766 reporting feed of the demo
province, build the warehouse, and check the public-services marts and KPI inputs against the
simulator's ground truth (``sim/ground_truth.parquet``), against the source database counted
independently of dbt, and against the feed's own numbers.

Every ground-truth row of a public-services KPI id (``766-*``, ``OPS-OVERDUE-DOSSIERS``) must have
its ``int_kpi__public_services[__catalogue]`` row and no more: numerators and denominators
exactly, values to 1e-9.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest

from iochub.settings import Settings

pytestmark = pytest.mark.integration

SOURCES = ["one_stop", "portal766"]
MODELS = ("int_kpi__public_services", "int_kpi__public_services__catalogue")
KEY = ("kpi_id", "period", "admin_level", "admin_code", "structure")


@pytest.fixture
def built(province_warehouse: Settings) -> Settings:
    """The whole province landed and built once per session (``tests/conftest.py``)."""
    return province_warehouse


def _query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.build_db), read_only=True) as db:
        return db.execute(sql).fetchall()


def _kpi_rows(
    settings: Settings,
) -> dict[tuple[str, ...], tuple[float, float | None, float | None]]:
    union = " union all ".join(
        f"select kpi_id, period, admin_level, admin_code, structure, numerator, denominator, value"
        f" from intermediate.{model}"
        for model in MODELS
    )
    return {tuple(row[:5]): (row[5], row[6], row[7]) for row in _query(settings, union)}


def _truth_rows(
    settings: Settings,
) -> dict[tuple[str, ...], tuple[float, float | None, float | None]]:
    path = settings.sim_dir / "ground_truth.parquet"
    with duckdb.connect() as db:
        rows = db.execute(
            "select kpi_id, period, admin_level, admin_code, structure, numerator, denominator,"
            f" value from read_parquet('{path}')"
            " where kpi_id like '766-%' or kpi_id = 'OPS-OVERDUE-DOSSIERS'"
        ).fetchall()
    return {tuple(row[:5]): (row[5], row[6], row[7]) for row in rows}


def test_kpis_match_ground_truth(built: Settings) -> None:
    settings = built
    truth = _truth_rows(settings)
    mine = _kpi_rows(settings)
    assert truth, "the ground truth has no public-services rows"
    mismatches: list[str] = []
    for key in sorted(set(truth) | set(mine)):
        if key not in mine:
            mismatches.append(f"missing {key}: truth {truth[key]}")
            continue
        if key not in truth:
            mismatches.append(f"extra {key}: {mine[key]}")
            continue
        (t_num, t_den, t_val), (m_num, m_den, m_val) = truth[key], mine[key]
        if t_num != m_num or t_den != m_den:
            mismatches.append(f"{key}: truth {t_num}/{t_den}, computed {m_num}/{m_den}")
        elif (t_val is None) != (m_val is None) or (
            t_val is not None and m_val is not None and abs(t_val - m_val) > 1e-9
        ):
            mismatches.append(f"{key}: value truth {t_val}, computed {m_val}")
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:50])
    ids = {key[0] for key in truth}
    assert {"766-2.1", "766-1.1", "766-5.2", "OPS-OVERDUE-DOSSIERS"} <= ids


def _source_distinct_dossiers(settings: Settings) -> int:
    """Distinct MaHoSo in the province's one-stop database, read without the warehouse."""
    sqlite_file = settings.sim_dir / "public_services" / "one_stop.sqlite"
    query = "SELECT COUNT(DISTINCT MaHoSo) FROM HoSo"
    if sqlite_file.exists():
        with sqlite3.connect(sqlite_file) as db:
            return int(db.execute(query).fetchone()[0])
    import pymysql  # type: ignore[import-untyped]

    url = urlparse(settings.sim_mysql_url)
    connection = pymysql.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=f"{settings.sim_db_prefix}one_stop",
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            row = cursor.fetchone()
            return int(row[0])
    finally:
        connection.close()


def _quarantined_only_dossiers(settings: Settings) -> int:
    """Dossiers whose every HoSo row the landing gate rejected (none of them landed)."""
    lake = settings.lake_dir
    quarantine = list((lake / "quarantine" / "one_stop").glob("*/*.parquet"))
    if not quarantine:
        return 0
    with duckdb.connect() as db:
        row = db.execute(
            f"""
            with rejected as (
                select distinct json_extract_string(decode(raw_content), '$.MaHoSo') as code
                from read_parquet('{lake}/quarantine/one_stop/*/*.parquet')
                where table_name = 'ho_so'
            ),
            landed as (
                select distinct "MaHoSo" as code
                from read_parquet('{lake}/raw/one_stop/ho_so/*/*.parquet', union_by_name = true)
            )
            select count(*) from rejected where code not in (select code from landed)
            """
        ).fetchone()
    return int(row[0]) if row else 0


def test_fct_dossier_one_row_per_source_dossier(built: Settings) -> None:
    settings = built
    source = _source_distinct_dossiers(settings)
    rejected = _quarantined_only_dossiers(settings)
    [(rows, distinct)] = _query(
        settings, "select count(*), count(distinct dossier_code) from marts.fct_dossier"
    )
    assert rows == distinct
    # Every dossier of the source is in fct_dossier, except those whose only row was
    # quarantined at landing (a future reception date, an impossible processing end).
    assert rows + rejected == source, (rows, rejected, source)
    assert rows > 0


def test_feed_reconciles_with_kpis(built: Settings) -> None:
    """The QĐ 766 feed's counters equal the KPI numerators/denominators of the same unit-month:
    dvc-progress totalReceived / totalOnTime / totalSynced = 766-2.1 den / num, 766-1.4 num;
    provide-online channelOnlineSum = 766-3.3 num; online-payment totalReceived /
    totalDossierOnlinePaymentSuccess = 766-3.6 den / num (unit 82 = province rows)."""
    settings = built
    mine = _kpi_rows(settings)
    checks = {
        "stg_portal766__dvc_progress": [
            ("received_count", "766-2.1", 1),
            ("on_time_count", "766-2.1", 0),
            ("synced_count", "766-1.4", 0),
        ],
        "stg_portal766__provide_online": [("channel_online_count", "766-3.3", 0)],
        "stg_portal766__online_payment": [
            ("received_count", "766-3.6", 1),
            ("paid_online_count", "766-3.6", 0),
        ],
    }
    mismatches: list[str] = []
    compared = 0
    for model, fields in checks.items():
        columns = ", ".join(field for field, _, _ in fields)
        rows = _query(
            settings,
            f"select period, unit_code, {columns} from staging.{model}"
            " qualify row_number() over (partition by period, unit_code order by run_id desc) = 1",
        )
        for period, unit, *values in rows:
            level = "province" if unit == "82" else "commune"
            for (field, kpi, position), feed in zip(fields, values, strict=True):
                key = (kpi, period, level, unit, "2025")
                computed = mine[key][position] if key in mine else 0.0
                compared += 1
                if float(feed or 0) != float(computed or 0):
                    mismatches.append(f"{model}.{field} {key}: feed {feed}, computed {computed}")
    assert compared > 0, "the feed landed no rows"
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:50])
