"""``make demo``: the whole pipeline once through Airflow, then both UIs left running.

Steps, each safe to repeat: seed the demo inbox, prepare Airflow, run ``extract__*`` and
``build_warehouse`` through Airflow, prepare Superset and import the dashboards, start Superset
and Airflow in the background. ``make stop`` stops exactly what this started.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.registry import load_registry
from iochub import airflow_services, superset
from iochub.settings import Settings
from simulator.fixtures import seed_xml130_inbox


def up(settings: Settings, say: Callable[[str], None]) -> None:
    say(f"IOC_HOME = {settings.home}")
    say("1/6 seeding the demo province's inbox (embedded XML 130 fixtures)")
    seed_xml130_inbox(settings.sim_dir)
    say("2/6 preparing Airflow (metadata database)")
    airflow_services.prepare(settings)
    for name in load_registry(settings):
        say(f"3/6 running extract__{name} through Airflow")
        airflow_services.test_dag(settings, f"extract__{name}")
    say("4/6 running build_warehouse through Airflow (dbt build → GX gate → publish)")
    airflow_services.test_dag(settings, "build_warehouse")
    say("5/6 starting Superset and importing the dashboards")
    superset.bootstrap(settings, echo=False)
    superset.start(settings)
    superset.import_assets(settings)
    say("6/6 starting Airflow (scheduler, DAG processor, API server)")
    airflow_services.start(settings)


def down(settings: Settings) -> list[str]:
    stopped = airflow_services.stop(settings)
    if superset.stop(settings):
        stopped.append("superset")
    return stopped
