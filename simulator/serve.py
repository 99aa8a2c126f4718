"""``ioc sim serve`` / ``ioc sim stop``: the province's servers, in the background.

Each sector declares its servers (:class:`simulator.sector.Service`); they run as separate
processes recorded under ``IOC_HOME/run/`` (names prefixed ``sim-``), so ``ioc sim stop`` stops
exactly them. Databases need no server of ours: they live in PostgreSQL / MariaDB or SQLite files.
"""

from __future__ import annotations

from iochub import processes
from iochub.settings import Settings
from simulator.generate import sectors
from simulator.outage import active_outages
from simulator.sector import Service


def all_services(settings: Settings) -> list[Service]:
    return [
        service
        for sector in sectors()
        for service in sector.services(settings.sim_dir, settings.sim_port_base)
    ]


def start_all(settings: Settings) -> list[tuple[Service, int]]:
    if not (settings.sim_dir / "manifest.json").exists():
        raise FileNotFoundError(
            f"no simulated province in {settings.sim_dir}: run `ioc sim generate` first"
        )
    # A publisher stopped by `ioc sim down` stays stopped until `ioc sim up`.
    down = {o.target for o in active_outages(settings) if o.action == "mqtt_stopped"}
    started = []
    for service in all_services(settings):
        if service.name in down:
            continue
        pid = processes.start(settings, f"sim-{service.name}", service.argv)
        if service.port is not None:
            processes.wait_for_port(
                service.port, timeout=30, log=settings.run_dir / f"sim-{service.name}.log"
            )
        started.append((service, pid))
    return started


def stop_all(settings: Settings) -> list[str]:
    return [s.name for s in all_services(settings) if processes.stop(settings, f"sim-{s.name}")]
