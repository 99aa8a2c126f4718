"""The whole demo province, extracted: every source lands, nothing is lost, nothing is clear;
and after the province's clock moves, an incremental run lands only what changed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pymysql  # type: ignore[import-untyped,unused-ignore]
import pytest

from connectors.extract import run_extract
from connectors.landing import read_manifests
from connectors.privacy import scan
from iochub.settings import Settings, get_settings
from simulator.advance import advance
from simulator.generate import GenerateParams, generate
from tests.conftest import _drop_databases, simulated_sources


def test_every_source_lands_with_the_invariant_and_no_clear_personal_data(
    province_warehouse: Settings,
) -> None:
    """Read from the session's landing (``province_warehouse`` extracted every source and
    failed on any failure): landing the province again here would cost minutes for nothing."""
    lake_home = province_warehouse
    declared = simulated_sources(lake_home)
    assert {path.name for path in lake_home.manifest_dir.iterdir()} == set(declared)
    for name in declared:
        manifests = read_manifests(lake_home, name)
        assert manifests, f"{name}: no committed manifest"
        for manifest in manifests:
            manifest.check_invariant()
        landed = sum(sum(m.rows_landed.values()) for m in manifests)
        assert landed > 0, f"{name}: nothing landed"
    hits, skipped = scan(lake_home)
    assert skipped == []
    assert hits == [], [str(hit) for hit in hits[:10]]
    _defects_are_quarantined(lake_home)


# (simulator source, defect kind) → (registry source prefix, quarantine reason). XML 130 is
# matched record by record in test_defects.py; here every other rejectable defect is counted.
REJECTED = {
    ("one_stop", "future_date"): ("one_stop", "future_date"),
    ("one_stop", "impossible_date"): ("one_stop", "impossible_date"),
    ("one_stop", "negative_amount"): ("one_stop", "out_of_range"),
    ("agriculture", "negative_amount"): ("agri_", "out_of_range"),
    ("iot", "out_of_range_reading"): ("iot_csv_backfill", "out_of_range"),
}


def _defects_are_quarantined(settings: Settings) -> None:
    """Each rejectable defect is in quarantine with its reason, and nothing else is (for the
    sources counted here: their quarantine holds exactly the logged defects)."""
    con = duckdb.connect()
    logged = dict(
        con.execute(
            "SELECT source || '/' || kind, count(*) FROM read_parquet(?) GROUP BY ALL",
            [str(settings.sim_dir / "defects.parquet")],
        ).fetchall()
    )
    quarantined = con.execute(
        "SELECT source, reason, count(*) FROM read_parquet(?, union_by_name = true) GROUP BY ALL",
        [str(settings.quarantine_dir / "*" / "*" / "*.parquet")],
    ).fetchall()
    for prefix in {prefix for prefix, _ in REJECTED.values()}:
        expected = {
            reason: logged.get(f"{sim}/{kind}", 0)
            for (sim, kind), (target, reason) in REJECTED.items()
            if target == prefix
        }
        got: dict[str, int] = {}
        for source, reason, count in quarantined:
            if source.startswith(prefix):
                got[reason] = got.get(reason, 0) + count
        assert sum(expected.values()) > 0, f"{prefix}: no defect injected, nothing proven"
        assert got == {r: n for r, n in expected.items() if n}, prefix


@pytest.fixture
def small_province(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A one-month province of its own (it is advanced, which the shared one must not be)."""
    monkeypatch.setenv("IOC_SIM_DB_PREFIX", f"simadv{os.getpid() % 100:02d}_")
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IOC_SIM_DIR", str(tmp_path / "sim"))
    settings = get_settings()
    generate(
        settings.sim_dir,
        GenerateParams(
            scale=0.003,
            seed=23,
            start=date(2025, 6, 1),
            end=date(2025, 6, 30),
            pg_url=settings.sim_pg_url,
            mysql_url=settings.sim_mysql_url,
            db_prefix=settings.sim_db_prefix,
        ),
        only=["public_services"],
    )
    try:
        yield settings
    finally:
        _drop_databases(settings)


def _changed_since(settings: Settings, watermark: str) -> int:
    connection = pymysql.connect(
        host="127.0.0.1", user="root", database=f"{settings.sim_db_prefix}one_stop"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM HoSo WHERE updated_at > %s", [watermark])
            (count,) = cursor.fetchone()
    finally:
        connection.close()
    return int(count)


def test_after_advance_an_incremental_run_lands_only_new_and_changed_rows(
    small_province: Settings,
) -> None:
    first = run_extract("one_stop", small_province)
    watermark = first.watermark_after["ho_so"]
    assert first.rows_landed["ho_so"] > 0
    assert run_extract("one_stop", small_province).rows_in.get("ho_so", 0) == 0

    advance(
        small_province.sim_dir,
        hours=48,
        pg_url=small_province.sim_pg_url,
        mysql_url=small_province.sim_mysql_url,
        db_prefix=small_province.sim_db_prefix,
        workers=1,
    )
    changed = _changed_since(small_province, watermark)
    assert changed > 0, "the province's clock moved but no dossier changed"
    after = run_extract("one_stop", small_province)
    after.check_invariant()
    assert after.rows_in["ho_so"] == changed
    assert after.watermark_after["ho_so"] > watermark
