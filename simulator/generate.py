"""``ioc sim generate``: the whole demo province, deterministic for a seed, at a chosen scale.

Runs every sector's generator over the same admin frame and date range, then writes
``ground_truth.parquet``, ``defects.parquet`` and ``manifest.json`` (parameters and what each
sector wrote) in the simulation folder. Databases go to PostgreSQL / MariaDB when they answer and
to SQLite files otherwise, so a laptop without servers still gets every system.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
import socket
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from simulator.context import SimContext
from simulator.frame import AdminFrame
from simulator.records import DefectLog, GroundTruth
from simulator.sector import Sector

log = logging.getLogger(__name__)

SECTOR_MODULES = [
    "simulator.health",
    "simulator.public_services",
    "simulator.education",
    "simulator.agriculture",
    "simulator.iot",
    "simulator.statistics",
]


@dataclass(frozen=True)
class GenerateParams:
    scale: float
    seed: int
    start: date
    end: date
    defect_rate: float = 0.01
    pg_url: str | None = None
    mysql_url: str | None = None


def reachable(url: str | None) -> bool:
    if not url:
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 1.0):
            return True
    except OSError:
        return False


def sectors(names: list[str] | None = None) -> list[Sector]:
    loaded: list[Sector] = [importlib.import_module(m).SECTOR for m in SECTOR_MODULES]
    if names:
        unknown = set(names) - {s.name for s in loaded}
        if unknown:
            raise ValueError(
                f"unknown sector(s) {sorted(unknown)}; known: {[s.name for s in loaded]}"
            )
        loaded = [s for s in loaded if s.name in names]
    return loaded


def generate(out: Path, params: GenerateParams, only: list[str] | None = None) -> dict[str, object]:
    """Generate the province into ``out`` (emptied first); returns the manifest it wrote."""
    if params.end < params.start:
        raise ValueError(f"--end {params.end} is before --start {params.start}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    ctx = SimContext(
        out=out,
        seed=params.seed,
        scale=params.scale,
        start=params.start,
        end=params.end,
        defect_rate=params.defect_rate,
        frame=AdminFrame(params.seed),
        defects=DefectLog(out / "defects.parquet"),
        truth=GroundTruth(),
        pg_url=params.pg_url if reachable(params.pg_url) else None,
        mysql_url=params.mysql_url if reachable(params.mysql_url) else None,
    )
    written: dict[str, dict[str, int]] = {}
    for sector in sectors(only):
        began = time.perf_counter()
        log.info("sim: generating %s", sector.name)
        written[sector.name] = sector.generate(ctx)
        log.info(
            "sim: %s done in %.1f s: %s",
            sector.name,
            time.perf_counter() - began,
            written[sector.name],
        )
    ctx.defects.close()
    truth_rows = ctx.truth.write(out / "ground_truth.parquet")
    manifest: dict[str, object] = {
        "scale": params.scale,
        "seed": params.seed,
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "defect_rate": params.defect_rate,
        "servers": {
            "postgresql": ctx.pg_url is not None,
            "mariadb": ctx.mysql_url is not None,
        },
        "written": written,
        "defects": ctx.defects.count,
        "ground_truth_rows": truth_rows,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest
