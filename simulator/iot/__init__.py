"""IoT sector of the demo province: water-monitoring stations and light traps (SECTOR)."""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.context import SimContext
from simulator.iot.generate import generate as _generate
from simulator.sector import Service


class IotSector:
    """6 water stations and 15 light traps: CSV dumps, JSONL message log, MQTT replay."""

    name = "iot"

    def generate(self, ctx: SimContext) -> dict[str, int]:
        return _generate(ctx)

    def services(self, sim_dir: Path, port_base: int) -> list[Service]:
        return [
            Service(
                name="iot-mqtt-publisher",
                argv=[
                    sys.executable,
                    "-m",
                    "simulator.iot.publisher",
                    "--sim-dir",
                    str(sim_dir),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "1883",
                    "--speed",
                    "3600",
                    "--loop",
                ],
                port=None,
                description="replays the stations' messages to Mosquitto (iochub/<db prefix>/...)",
            )
        ]


SECTOR = IotSector()
