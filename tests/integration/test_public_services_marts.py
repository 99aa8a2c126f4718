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


def test_every_gap_to_the_portal_is_explained(built: Settings) -> None:
    """marts.kpi_reconciliation: the demo province's feed differs from the hub the way a real
    one does (≈1.5% of dossiers never reach the portal, ≈3% reach it days late and are filed in
    the month they arrived, and the portal's mean processing time is net of supplement waits);
    every such gap is explained, none is left unexplained, and no alert is raised."""
    settings = built
    rows = _query(
        settings,
        "select explanation_code, count(*), count(*) filter (where is_alert),"
        " count(*) filter (where abs(coalesce(gap, 0)) > 1e-9),"
        " max(abs(gap)) filter (where kpi_id != '766-2.2')"
        " from marts.kpi_reconciliation group by explanation_code",
    )
    by_code = {code: (cells, alerts, gaps) for code, cells, alerts, gaps, _ in rows}
    largest = {code: largest for code, *_, largest in rows}
    assert "unexplained" not in by_code, by_code
    assert sum(alerts for _, alerts, _ in by_code.values()) == 0
    # Agreeing cells have no gap, but 766-2.2's: the feed rounds its mean to 0.01 day.
    assert (largest["agrees"] or 0) <= 1e-9
    for code in ("not_received", "late_sync", "late_sync_and_not_received"):
        assert by_code.get(code, (0, 0, 0))[2] > 0, f"no {code} gap in the demo: {by_code}"
    # The portal's 766-2.2 is the net reading: wherever a dossier waited for a supplement.
    [(reading,)] = _query(
        settings,
        "select count(*) from marts.kpi_reconciliation"
        " where explanation_code = 'reading_difference' and kpi_id = '766-2.2'",
    )
    assert reading > 0


def test_portal_holds_the_synced_dossiers_by_sync_month(built: Settings) -> None:
    """Counted independently of dbt's marts: the feed's totalReceived per month (province) is
    the number of distinct dossiers whose first sync row falls in that month, among those the
    hub counts; its totalReportedReceived is the hub's count by reception month."""
    settings = built
    feed = dict(
        _query(
            settings,
            "select period, received_count from staging.stg_portal766__dvc_progress"
            " where unit_code = '82' and received_count > 0"
            " qualify row_number() over (partition by period order by run_id desc) = 1",
        )
    )
    counted = dict(
        _query(
            settings,
            "select strftime(cast(log.processed_at as date), '%Y-%m'),"
            " count(distinct d.dossier_code)"
            " from marts.fct_dossier as d"
            " join (select dossier_code, min(processed_at) as processed_at"
            "       from intermediate.int_public_services__processing_log"
            "       where action_text = 'Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia'"
            "       group by dossier_code) as log on log.dossier_code = d.dossier_code"
            " where d.is_counted group by 1",
        )
    )
    assert feed and set(feed) <= set(counted)
    assert feed == {period: counted[period] for period in feed}
    reported = dict(
        _query(
            settings,
            "select period, reported_received_count from staging.stg_portal766__dvc_progress"
            " where unit_code = '82' and reported_received_count > 0"
            " qualify row_number() over (partition by period order by run_id desc) = 1",
        )
    )
    received = dict(
        _query(
            settings,
            "select period, denominator from marts.fct_kpi_value where kpi_id = '766-2.1'"
            " and period_type = 'month' and admin_level = 'province'",
        )
    )
    assert reported and {p: reported[p] for p in reported} == {p: received[p] for p in reported}
