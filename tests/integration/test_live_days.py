"""The province lives on: after a backfill and after each new day, built incrementally, every KPI
still equals the simulator's ground truth.

A province of its own (scale 0.01, 10 September – 3 October 2025, with a school term export;
its own database prefix and ports, so advancing it disturbs no other test) is landed and built
whole (``build_and_publish``: no build recorded yet, a full refresh). Then twice: the province
moves on (two days, then one: new claim files, dossiers that progress, new readings…), every
source is extracted again and ``build_and_publish`` plans a partial build (the sources with new
runs and what is downstream; the XML 130 chain merging only the new runs) and gates what
changed. After each build the month rows of ``fct_kpi_value`` must equal the ground truth the
simulator wrote for its new end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import pytest

from connectors.landing import new_run_id
from iochub.pipeline import extract_all
from iochub.settings import Settings
from iochub.warehouse import build_and_publish
from simulator.advance import advance
from tests.conftest import serving_province, simulated_sources
from tests.integration.test_kpi_golden import compare_with_ground_truth
from tests.registry_counted import registry_scales

pytestmark = pytest.mark.integration

_SLOT = os.getpid() % 100


@pytest.fixture(scope="module")
def live_province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    root = tmp_path_factory.mktemp("live_days")
    env = {
        "IOC_SIM_DB_PREFIX": f"simlive{_SLOT:02d}_",
        "IOC_SIM_PORT_BASE": str(45000 + 150 * _SLOT),
    }
    with (
        pytest.MonkeyPatch.context() as patch,
        serving_province(
            patch, root, env, seed=23, start=date(2025, 9, 10), end=date(2025, 10, 3)
        ) as settings,
    ):
        yield settings


def _land_build_compare(settings: Settings) -> tuple[bool, list[str]]:
    """Every simulated source extracted, the planned build published, KPIs against the truth;
    whether the build was a full refresh, and the sources it selected."""
    extracted = extract_all(settings, simulated_sources(settings))
    # A system that delivers nothing in these weeks (a logbook of the old communes) has no drop
    # folder yet: the only failure allowed, as in a province where it has not delivered.
    failed = {
        name: failure
        for name, failure in extracted.failures.items()
        if not (failure.error_type == "SourceUnavailable" and "does not exist" in failure.message)
    }
    assert failed == {}, failed
    outcome = build_and_publish(settings, new_run_id())
    assert outcome.plan is not None
    comparison = compare_with_ground_truth(
        settings.build_db, settings.sim_dir / "ground_truth.parquet", registry_scales(settings)
    )
    assert len(comparison.compared) >= 30, comparison.compared  # most of the catalogue
    assert comparison.mismatches == [], comparison.mismatches[:10]
    assert comparison.missing == [], comparison.missing[:10]
    assert comparison.extra == [], comparison.extra[:10]
    return outcome.plan.full_refresh, outcome.plan.changed_sources


def test_kpis_equal_the_truth_after_a_backfill_and_each_new_day(live_province: Settings) -> None:
    settings = live_province
    full_refresh, _ = _land_build_compare(settings)
    assert full_refresh  # the first build: nothing recorded yet

    for hours in (48, 24):
        moved = advance(
            settings.sim_dir,
            hours,
            settings.sim_pg_url,
            settings.sim_mysql_url,
            settings.sim_db_prefix,
        )
        assert moved.added, "the province did not move"
        full_refresh, changed = _land_build_compare(settings)
        assert not full_refresh
        assert "health_xml130" in changed  # the incremental XML 130 chain took part
