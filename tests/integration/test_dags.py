"""The DAGs: every file imports cleanly, and both DAGs run end to end with ``dag.test()``."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from connectors.registry import load_registry
from iochub.settings import get_settings
from simulator.fixtures import seed_xml130_inbox
from tests.fixtures_truth import QUARANTINED, VALID_EPISODES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def airflow_db() -> None:
    """A migrated Airflow metadata database in the session's IOC_HOME, with the pools of the
    source systems (what `make demo` prepares)."""
    from iochub.airflow_services import prepare

    prepare(get_settings())


@pytest.fixture(scope="module")
def dagbag(airflow_db: None):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(get_settings().dags_dir))


def test_every_dag_file_imports_without_error(dagbag) -> None:
    assert dagbag.import_errors == {}


def test_every_registry_source_has_an_extract_dag_with_retries(dagbag) -> None:
    for name in load_registry(get_settings()):
        dag = dagbag.get_dag(f"extract__{name}")
        assert dag is not None, f"no DAG for source {name}"
        for task in dag.tasks:
            assert task.retries >= 1
            assert task.outlets, "extract tasks announce the landed tables as Assets"
            assert task.pool == f"source__{name}", "each source system has its own pool"


def test_every_source_pool_exists(airflow_db: None) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run(
        [airflow, "pools", "list", "--output", "json"],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    listed = done.stdout
    pools = {pool["pool"]: pool for pool in json.loads(listed[listed.index("[") :])}
    for name in load_registry(get_settings()):
        assert pools[f"source__{name}"]["slots"] in (1, "1"), name


def test_build_warehouse_runs_on_the_lake_assets(dagbag) -> None:
    dag = dagbag.get_dag("build_warehouse")
    order = [t.task_id for t in dag.topological_sort()]
    assert order[:6] == [
        "wait_for_extracts",
        "dbt_build",
        "record_build",
        "geo_layers",
        "quality_gate",
        "publish",
    ]
    assert set(order[6:]) == {"notify_alerts", "superset_source_datasets", "warm_superset_cache"}
    datasets = dag.get_task("superset_source_datasets")
    assert datasets.upstream_task_ids == {"publish"}
    assert datasets.downstream_task_ids == {"warm_superset_cache"}
    assert dag.get_task("notify_alerts").upstream_task_ids == {"publish"}
    assert dag.max_active_runs == 1
    # on new data, and on a cadence when the sources are quiet
    assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
    assert "0 */6 * * *" in str(dag.timetable.timetable.summary)


def test_both_dags_run_end_to_end(dagbag) -> None:
    settings = get_settings()
    seed_xml130_inbox(settings.sim_dir)

    extract_run = dagbag.get_dag("extract__health_xml130").test()
    assert extract_run.state == "success"
    build_run = dagbag.get_dag("build_warehouse").test()
    assert build_run.state == "success"

    with duckdb.connect(str(settings.serving_db), read_only=True) as con:
        row = con.execute("select count(*) from marts.fct_health_episode").fetchone()
    assert row == (VALID_EPISODES,)

    quarantine_files = list((settings.quarantine_dir / "health_xml130").rglob("*.parquet"))
    rows = [r for f in quarantine_files for r in pq.read_table(f).to_pylist()]
    assert {r["item"]: r["reason"] for r in rows} == QUARANTINED
    assert all(r["detail"] for r in rows)

    # Nothing new in the inbox: the extract is skipped, so no Asset event rebuilds the warehouse.
    again = dagbag.get_dag("extract__health_xml130").test()
    assert again.state == "success"
    assert [ti.state for ti in again.get_task_instances()] == ["skipped"]
