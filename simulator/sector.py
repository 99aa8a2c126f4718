"""The contract between the simulation run and each sector's systems.

A sector module (``simulator/<sector>/__init__.py``) exposes ``SECTOR``, an object with:

- ``name``: the sector's folder name under the simulation folder;
- ``generate(ctx) -> dict[str, int]``: writes its systems' data for ``ctx.start``–``ctx.end``
  (files under ``ctx.out / name``, databases through ``ctx.pg_url`` / ``ctx.mysql_url`` or SQLite
  files when those are None), logs every injected defect in ``ctx.defects`` and adds the true
  value of each KPI it supports to ``ctx.truth``; returns records written per table or file kind;
- ``services(sim_dir, port_base) -> list[Service]``: the servers that make its systems reachable
  the way the real ones are (HTTP APIs, MQTT publishers), each on ``port_base`` + its own fixed
  offset; empty when files and databases are enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from simulator.context import SimContext


@dataclass(frozen=True)
class Service:
    """A long-running simulated system, started by ``ioc sim serve`` in the background."""

    name: str  # unique, e.g. "portal766-api"
    argv: list[str]  # e.g. [sys.executable, "-m", "simulator.public_services.portal766", ...]
    port: int | None  # the TCP port it listens on, if any (checked after start)
    description: str


class Sector(Protocol):
    name: str

    def generate(self, ctx: SimContext) -> dict[str, int]: ...

    def services(self, sim_dir: Path, port_base: int) -> list[Service]: ...
