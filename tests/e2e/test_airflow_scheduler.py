"""The demo's Airflow, for real: scheduler, DAG processor and API server as ``make demo`` starts
them. A run of an extract DAG requested through the REST API (what the demo clock does) lands
new data, the scheduler starts ``build_warehouse`` on the Asset event, and it publishes; an
Asset event recorded through the API (what an MQTT listener does) starts a build too."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator

import duckdb
import httpx
import pytest

from connectors.landing import read_manifests, write_placeholders
from connectors.registry import load_registry
from iochub import airflow_services
from iochub.assets import asset_name
from iochub.listener import AssetNotifier
from iochub.processes import free_port
from iochub.settings import REPO_ROOT, Settings
from iochub.ticker import AirflowApi
from simulator.fixtures import seed_xml130_inbox
from tests.fixtures_truth import VALID_EPISODES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    root = tmp_path_factory.mktemp("scheduler")
    home = root / "home"
    # One source, so the scheduler's first round is one extract run rather than 38.
    sources = root / "sources" / "health"
    sources.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "connectors" / "sources" / "health" / "health_xml130.yaml", sources)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOC_HOME", str(home))
        # dbt's sources are every registered table: empty placeholders stand for the others.
        write_placeholders(Settings.from_env(), list(load_registry(Settings.from_env()).values()))
        patch.setenv("IOC_SOURCES_DIR", str(root / "sources"))
        patch.setenv("IOC_AIRFLOW_PORT", str(free_port()))
        settings = Settings.from_env()
        for key, value in settings.tool_environment().items():
            patch.setenv(key, value)
        seed_xml130_inbox(settings.sim_dir)
        airflow_services.prepare(settings)
        airflow_services.start(settings)
        try:
            yield settings
        finally:
            airflow_services.stop(settings)


def _runs(api: AirflowApi, dag_id: str) -> list[dict[str, str]]:
    runs: list[dict[str, str]] = api.request("GET", f"/api/v2/dags/{dag_id}/dagRuns").json()[
        "dag_runs"
    ]
    return runs


Runs = list[dict[str, str]]


def _wait(api: AirflowApi, dag_id: str, done: Callable[[Runs], bool], timeout: float = 600) -> Runs:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if done(_runs(api, dag_id)):
                return _runs(api, dag_id)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:  # 404: the DAG is not parsed yet
                raise
        time.sleep(5)
    raise AssertionError(f"{dag_id}: not done in {timeout} s; runs: {_runs(api, dag_id)}")


def test_an_api_triggered_extract_republishes_through_the_scheduler(airflow: Settings) -> None:
    api = AirflowApi.of(airflow)
    # The DAG processor has to parse the DAG files before a run can be asked for.
    _wait(api, "build_warehouse", lambda runs: True, timeout=300)
    run_id = api.trigger("extract__health_xml130", note="test: demo clock")
    extract = _wait(
        api,
        "extract__health_xml130",
        lambda runs: any(
            r["dag_run_id"] == run_id and r["state"] in ("success", "failed") for r in runs
        ),
    )
    assert {r["state"] for r in extract if r["dag_run_id"] == run_id} == {"success"}
    builds = _wait(
        api,
        "build_warehouse",
        lambda runs: any(
            r["run_type"] == "asset_triggered" and r["state"] in ("success", "failed") for r in runs
        ),
    )
    assert [r["state"] for r in builds if r["run_type"] == "asset_triggered"][:1] == ["success"]
    with duckdb.connect(str(airflow.serving_db), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_health_episode").fetchone() == (
            VALID_EPISODES,
        )


def test_a_listener_s_asset_events_start_a_build(airflow: Settings) -> None:
    """What ``ioc extract --follow`` does after a run lands (iochub.listener): an Asset event per
    table that grew, through the REST API; the scheduler starts build_warehouse on it."""
    api = AirflowApi.of(airflow)
    _wait(api, "build_warehouse", lambda runs: True, timeout=300)
    before = [r for r in _runs(api, "build_warehouse") if r["run_type"] == "asset_triggered"]
    # The first test's run that landed files (the scheduler's own first run may find none new).
    manifest = [m for m in read_manifests(airflow, "health_xml130") if m.items_in][-1]
    grown = sorted(table for table, rows in manifest.rows_landed.items() if rows)
    notifier = AssetNotifier(api, every=0.0)
    notifier.landed("health_xml130", manifest)
    assert notifier.pending == {} and not notifier.warned
    first = asset_name("health_xml130", grown[0])
    found = api.request("GET", "/api/v2/assets", params={"name_pattern": first}).json()["assets"]
    asset_id = next(a["id"] for a in found if a["name"] == first)
    events = api.request("GET", "/api/v2/assets/events", params={"asset_id": asset_id}).json()
    assert [
        e["extra"]
        for e in events["asset_events"]
        if e["extra"].get("by") == "listener" and e["extra"].get("from_rest_api")
    ] == [{"run_id": manifest.run_id, "by": "listener", "from_rest_api": True}]
    _wait(
        api,
        "build_warehouse",
        lambda runs: len([r for r in runs if r["run_type"] == "asset_triggered"]) > len(before),
        timeout=180,
    )
