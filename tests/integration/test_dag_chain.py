"""The whole chain through Airflow (``dag.test()``) on the demo province, with one source down.

The hub has run before: its lake holds every source's landing so far (copied from the session's
``province_warehouse``) except ``agri_bvtv01``, a system that never landed and is down today.
Every ``extract__<source>`` DAG runs against the session's province (scale 0.01) while
``ioc sim down agri_bvtv01`` has closed that system's PostgreSQL database: its DAG retries
(exponential backoff, shortened here) and fails alone, every other DAG lands what is new (or
skips: nothing is). ``build_warehouse``
then publishes; the freshness table shows the down source stale and failing with its error,
an alert is open for it, and every KPI equals the ground truth — except the count of operating
agriculture systems, which is one short in each month the down system had records: exactly what
the wall should show while it is down. Once the source is back up, its DAG lands again and the
next build publishes every KPI equal to the ground truth.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator

import duckdb
import pytest

from iochub.settings import Settings, get_settings
from simulator.outage import bring_up, take_down
from tests.conftest import point_at_province, simulated_sources
from tests.integration.test_kpi_golden import REQUIRED_KPIS, compare_with_ground_truth
from tests.registry_counted import registry_scales

pytestmark = pytest.mark.integration

DOWN = "agri_bvtv01"
RETRIES = 3


@pytest.fixture(scope="module")
def chain_home(
    province: Settings, province_warehouse: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """An IOC_HOME on the session's province with the session's landings but the down
    system's, and no warehouse yet; Airflow's metadata database stays the session's (Airflow
    reads its home once, at import). Landing the whole province again through Airflow would
    cost minutes and prove what the session's landing already proved."""
    from iochub.airflow_services import prepare

    prepare(get_settings())
    home = tmp_path_factory.mktemp("chain") / "home"
    # cosmos applies the dbt task's environment (AIRFLOW_HOME included) to this process's
    # os.environ when tasks run in-process, as under dag.test(): put it all back afterwards.
    saved = dict(os.environ)
    with pytest.MonkeyPatch.context() as patch:
        point_at_province(patch, province, home)
        patch.setenv("IOC_EXTRACT_RETRY_DELAY", "1")
        settings = get_settings()
        shutil.copytree(
            province_warehouse.lake_dir, settings.lake_dir, ignore=shutil.ignore_patterns(DOWN)
        )
        for key, value in settings.tool_environment().items():
            if not key.startswith("AIRFLOW"):
                patch.setenv(key, value)
        yield settings
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def dagbag(chain_home: Settings):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(chain_home.dags_dir))
    assert bag.import_errors == {}
    return bag


def test_a_source_down_fails_alone_and_the_rest_publishes(
    chain_home: Settings, dagbag, province: Settings
) -> None:
    settings = chain_home
    take_down(settings, DOWN)
    try:
        states = {}
        for name in simulated_sources(settings):
            run = dagbag.get_dag(f"extract__{name}").test()
            states[name] = run.state
            if name == DOWN:
                (ti,) = run.get_task_instances()
                assert ti.state == "failed"
                assert ti.try_number == RETRIES + 1, "every retry was tried"
    finally:
        bring_up(settings, DOWN)
    assert {n for n, state in states.items() if state != "success"} == {DOWN}
    failures = [
        json.loads(path.read_text()) for path in (settings.failure_dir / DOWN).glob("*.json")
    ]
    assert len(failures) == RETRIES + 1, "one record per attempt"
    assert {f["error_type"] for f in failures} == {"SourceUnavailable"}
    assert not (settings.manifest_dir / DOWN).exists(), "nothing committed for a failed run"

    build = dagbag.get_dag("build_warehouse").test()
    assert build.state == "success"

    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        freshness = con.execute(
            "select source_name, bool_or(is_stale), bool_or(is_failing), "
            "max(failures_since_success), max(last_error), max(last_success_at) "
            "from meta.meta_source_freshness group by source_name"
        ).fetchall()
        unchecked = con.execute(
            "select count(*) from meta.meta_source_freshness "
            "where last_run_rows_landed > 0 and last_run_landing_expectations = 0"
        ).fetchone()
        alert = con.execute(
            "select count(*) from meta.alerts where alert_rule = 'source_failing' "
            "and subject_code = ? and ended_at is null",
            [DOWN],
        ).fetchone()
    # Only the simulated sources ran: a system the demo province lacks is stale, not failing.
    simulated = set(simulated_sources(settings))
    by_source = {row[0]: row[1:] for row in freshness if row[0] in simulated}
    stale, failing, count, error, last_success = by_source.pop(DOWN)
    assert (stale, failing, count, last_success) == (True, True, RETRIES + 1, None)
    assert f"{settings.sim_db_prefix}{DOWN}" in error
    assert alert == (1,)
    assert unchecked == (0,), "every landed table passed its landing-batch suite"
    # Every other source landed: none is failing and each has a last success.
    assert all(not row[1] and row[4] is not None for row in by_source.values()), by_source

    truth = province.sim_dir / "ground_truth.parquet"
    scales = registry_scales(settings)
    comparison = compare_with_ground_truth(settings.serving_db, truth, scales)
    assert not REQUIRED_KPIS - comparison.compared, "every required indicator is computed"
    assert comparison.missing == [] and comparison.extra == []
    short_by_one = [
        line
        for line in comparison.mismatches
        if line.startswith("OPS-AGRI-SYSTEMS-OPERATING ") and _one_short(line)
    ]
    assert short_by_one, "the down system is missing from the count of operating systems"
    assert comparison.mismatches == short_by_one

    # Back up: the same DAG lands, the next build publishes, and every KPI equals the truth.
    assert dagbag.get_dag(f"extract__{DOWN}").test().state == "success"
    assert list((settings.manifest_dir / DOWN).glob("*.json"))
    assert dagbag.get_dag("build_warehouse").test().state == "success"
    recovered = compare_with_ground_truth(settings.serving_db, truth, scales)
    assert (recovered.mismatches, recovered.missing, recovered.extra) == ([], [], [])
    assert recovered.rows_compared == comparison.rows_compared


def _one_short(line: str) -> bool:
    """``expected a/28=…, got b/28=…`` with b = a − 1."""
    expected = line.split("expected ", 1)[1].split("/", 1)[0]
    got = line.split("got ", 1)[1].split("/", 1)[0]
    return float(got) == float(expected) - 1


def test_a_backfill_re_reads_a_date_range(chain_home: Settings, dagbag) -> None:
    """A system corrects an old record without touching the incremental cursor: the scheduled
    run does not see it, a run triggered with ``since`` re-reads from that date and the
    record's latest landing carries the correction. That the latest landing of a record is
    what the warehouse publishes is the staging's rule, checked by the agriculture KPI cases
    (a re-sent TT01 record counts once, as re-sent); a build here would cost two minutes to
    show it again."""
    import psycopg

    settings = chain_home
    url = f"{settings.sim_pg_url}/{settings.sim_db_prefix}agri_tt01"
    with psycopg.connect(url, autocommit=True) as pg:
        found = pg.execute(
            "select record_id, report_date, planted_ha from crop_area "
            "where report_date >= '2025-09-01' and planted_ha is not null and planted_ha >= 0 "
            "order by report_date, record_id limit 1"
        ).fetchone()
        assert found is not None
        record_id, report_date, planted = found
        pg.execute(
            "update crop_area set planted_ha = planted_ha + 1000 where record_id = %s", [record_id]
        )
    try:
        dag = dagbag.get_dag("extract__agri_tt01")
        quiet = dag.test()
        assert [ti.state for ti in quiet.get_task_instances()] == ["skipped"]
        backfill = dag.test(run_conf={"since": str(report_date)})
        assert backfill.state == "success"
        assert [ti.state for ti in backfill.get_task_instances()] == ["success"]
    finally:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(
                "update crop_area set planted_ha = %s where record_id = %s", [planted, record_id]
            )
    parts = settings.raw_dir / "agri_tt01" / "crop_area" / "*" / "*.parquet"
    with duckdb.connect() as con:
        row = con.execute(
            "select planted_ha from read_parquet(?, hive_partitioning = true, "
            "union_by_name = true) where record_id = ? order by _run_id desc limit 1",
            [str(parts), record_id],
        ).fetchone()
    assert row is not None and float(row[0]) == float(planted) + 1000
