"""``make demo``: the whole pipeline on the demo province, then both UIs left running.

Steps, each safe to repeat: generate the demo province (scale 0.01, once; PostgreSQL/MariaDB
when they answer, SQLite files otherwise) and serve its HTTP systems and MQTT stations, land
every registered source with the same code the ``extract__*`` DAGs run (in-process, so the first
load takes a minute rather than a DAG run per source), run ``build_warehouse`` through Airflow,
prepare Superset and import the dashboards, start Superset and Airflow in the background; from
then on Airflow's scheduler runs the extract DAGs on their schedules, and the demo clock
(``ioc sim tick``, iochub.ticker) moves the province a day on every 10 minutes and triggers the
extract DAGs due that day, so the warehouse republishes as new data lands; the MQTT stations'
readings are landed as they arrive by a listener (iochub.listener). ``make stop`` stops exactly
what this started.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from iochub import airflow_services, processes, superset
from iochub.pipeline import ExtractOutcome, extract_all
from iochub.settings import Settings
from simulator.generate import GenerateParams, generate, reachable
from simulator.serve import start_all, stop_all


def demo_params(settings: Settings, servers: bool) -> GenerateParams:
    """Both sides of the 1 July 2025 reorganisation and one education term export, at the size
    that generates in well under a minute on a laptop."""
    return GenerateParams(
        scale=0.01,
        seed=42,
        start=date(2025, 4, 1),
        end=date(2025, 10, 31),
        pg_url=settings.sim_pg_url if servers else None,
        mysql_url=settings.sim_mysql_url if servers else None,
        db_prefix=settings.sim_db_prefix,
    )


def ensure_province(settings: Settings, say: Callable[[str], None]) -> None:
    if (settings.sim_dir / "manifest.json").exists():
        say(f"   the demo province is already in {settings.sim_dir}")
        return
    servers = reachable(settings.sim_pg_url) and reachable(settings.sim_mysql_url)
    say(
        "   generating it (scale 0.01, April–October 2025) into "
        + ("PostgreSQL and MariaDB" if servers else "SQLite files (no database servers answer)")
    )
    generate(settings.sim_dir, demo_params(settings, servers))


def up(settings: Settings, say: Callable[[str], None]) -> ExtractOutcome:
    """Every step; returns the first landing's outcome, for the caller's summary."""
    say(f"IOC_HOME = {settings.home}")
    say("1/7 the demo province (every sector system, in its real formats)")
    ensure_province(settings, say)
    say("2/7 serving its HTTP systems and MQTT stations")
    stop_all(settings)
    start_all(settings)
    say("3/7 preparing Airflow (metadata database)")
    airflow_services.prepare(settings)
    say("4/7 landing every source (the extract DAGs' code, in-process)")
    outcome = extract_all(settings)
    for name, error in outcome.failures.items():
        say(f"   {name} failed (the others landed): {error}")
    say(f"   {len(outcome.manifests)} source(s) landed")
    say("5/7 running build_warehouse through Airflow (dbt build → GX gate → publish → alerts)")
    airflow_services.test_dag(settings, "build_warehouse")
    say("6/7 starting Superset and importing the dashboards")
    superset.bootstrap(settings, echo=False)
    superset.start(settings)
    superset.import_assets(settings)
    say("7/7 starting Airflow (scheduler, DAG processor, API server), the MQTT listeners and")
    say("    the demo clock")
    airflow_services.start(settings)
    listeners = start_listeners(settings)
    landed = ", ".join(listeners) or "no MQTT source"
    say(f"   {landed} landed as it arrives (`ioc extract --follow`)")
    start_ticker(settings)
    say(f"   the province moves a day on every {TICK_SECONDS // 60} minutes (`ioc sim tick`)")
    return outcome


TICK_SECONDS = 600
TICKER = "demo-ticker"


def start_ticker(settings: Settings) -> int:
    """``ioc sim tick`` in the background, recorded like the other demo services."""
    ioc = str(Path(sys.executable).with_name("ioc"))
    return processes.start(settings, TICKER, [ioc, "sim", "tick", "--every", str(TICK_SECONDS)])


def listener_service(name: str) -> str:
    return f"listener-{name}"


def start_listeners(settings: Settings) -> list[str]:
    """One ``ioc extract <source> --follow`` per MQTT source (iochub.listener), in the
    background: the stations' readings land as they arrive instead of at the hourly drain."""
    from connectors.registry import load_registry

    ioc = str(Path(sys.executable).with_name("ioc"))
    names = [s.name for s in load_registry(settings).values() if s.kind == "mqtt"]
    for name in names:
        processes.start(settings, listener_service(name), [ioc, "extract", name, "--follow"])
    return names


def down(settings: Settings) -> list[str]:
    from connectors.registry import load_registry

    stopped = [TICKER] if processes.stop(settings, TICKER) else []
    for name in load_registry(settings):
        if processes.stop(settings, listener_service(name)):
            stopped.append(listener_service(name))
    stopped += airflow_services.stop(settings)
    if superset.stop(settings):
        stopped.append("superset")
    stopped += stop_all(settings)
    return stopped
