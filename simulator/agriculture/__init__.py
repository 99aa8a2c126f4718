"""Agriculture sector of the demo province: the 28 systems of ``systems.yaml`` (SECTOR)."""

from __future__ import annotations

import sys
from pathlib import Path

from simulator.agriculture.generate import generate as _generate
from simulator.context import SimContext
from simulator.sector import Service

API_PORT_OFFSET = 100  # 18800 with the default port base


class AgricultureSector:
    """19 central and 9 provincial systems: databases, report workbooks, APIs and file drops."""

    name = "agriculture"

    def generate(self, ctx: SimContext) -> dict[str, int]:
        return _generate(ctx)

    def services(self, sim_dir: Path, port_base: int) -> list[Service]:
        return [
            Service(
                name="agriculture-api",
                argv=[
                    sys.executable,
                    *("-m", "simulator.agriculture.api", "--sim-dir", str(sim_dir)),
                    *("--port", str(port_base + API_PORT_OFFSET)),
                ],
                port=port_base + API_PORT_OFFSET,
                description="JSON APIs of the API-kind agriculture systems under /api/<code>/",
            )
        ]


SECTOR = AgricultureSector()
