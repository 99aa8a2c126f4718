"""The whole demo province, extracted: every source lands, nothing is lost, nothing is clear;
and after the province's clock moves, an incremental run lands only what changed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pymysql  # type: ignore[import-untyped,unused-ignore]
import pytest

from connectors.extract import run_extract
from connectors.landing import read_manifests
from connectors.privacy import scan
from connectors.registry import load_registry
from iochub.pipeline import extract_all
from iochub.settings import Settings, get_settings
from simulator.advance import advance
from simulator.generate import GenerateParams, generate
from tests.conftest import _drop_databases


def test_every_source_lands_with_the_invariant_and_no_clear_personal_data(
    lake_home: Settings,
) -> None:
    outcome = extract_all(lake_home)
    assert outcome.failures == {}
    declared = load_registry(lake_home)
    assert set(outcome.manifests) == set(declared)
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
