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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from simulator.context import SimContext
from simulator.frame import AdminFrame
from simulator.records import DefectLog, GroundTruth, concat_defect_logs
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


PARTS = ".parts"  # per-sector defect logs while the run is going on


@dataclass(frozen=True)
class GenerateParams:
    scale: float
    seed: int
    start: date
    end: date
    defect_rate: float = 0.01
    pg_url: str | None = None
    mysql_url: str | None = None
    db_prefix: str = "sim_"


def reachable(url: str | None) -> bool:
    if not url:
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 1.0):
            return True
    except OSError:
        return False


def sector_modules(names: list[str] | None = None) -> list[str]:
    """Modules of the sectors asked for (all by default), in the fixed order of the run."""
    if not names:
        return list(SECTOR_MODULES)
    by_name = {module.rsplit(".", 1)[1]: module for module in SECTOR_MODULES}
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise ValueError(f"unknown sector(s) {unknown}; known: {sorted(by_name)}")
    return [module for module in SECTOR_MODULES if module.rsplit(".", 1)[1] in names]


def sectors(names: list[str] | None = None) -> list[Sector]:
    return [importlib.import_module(m).SECTOR for m in sector_modules(names)]


@dataclass(frozen=True)
class SectorRun:
    name: str
    written: dict[str, int]
    truth: GroundTruth
    defects: int


def _run_sector(module: str, out: Path, params: GenerateParams) -> SectorRun:
    """One sector in its own process, with its own defect log (joined by the parent)."""
    sector: Sector = importlib.import_module(module).SECTOR
    ctx = SimContext(
        out=out,
        seed=params.seed,
        scale=params.scale,
        start=params.start,
        end=params.end,
        defect_rate=params.defect_rate,
        frame=AdminFrame(params.seed),
        defects=DefectLog(out / PARTS / f"defects_{sector.name}.parquet"),
        truth=GroundTruth(),
        pg_url=params.pg_url,
        mysql_url=params.mysql_url,
        db_prefix=params.db_prefix,
    )
    began = time.perf_counter()
    written = sector.generate(ctx)
    ctx.defects.close()
    log.info("sim: %s done in %.1f s: %s", sector.name, time.perf_counter() - began, written)
    return SectorRun(sector.name, written, ctx.truth, ctx.defects.count)


def generate(
    out: Path, params: GenerateParams, only: list[str] | None = None, workers: int = 2
) -> dict[str, object]:
    """Generate the province into ``out`` (emptied first); returns the manifest it wrote.

    Sectors run in up to ``workers`` processes (the machine has 2 cores; health alone is about
    half the work). Each writes its own defect log; the parent joins logs and ground truth in
    the fixed sector order, so the output does not depend on which process finished first.
    """
    if params.end < params.start:
        raise ValueError(f"--end {params.end} is before --start {params.start}")
    modules = sector_modules(only)
    if out.exists():
        shutil.rmtree(out)
    (out / PARTS).mkdir(parents=True)
    params = replace(
        params,
        pg_url=params.pg_url if reachable(params.pg_url) else None,
        mysql_url=params.mysql_url if reachable(params.mysql_url) else None,
    )
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(_run_sector, module, out, params) for module in modules]
        runs = [future.result() for future in futures]
    truth = GroundTruth()
    for run in runs:
        truth.merge(run.truth)
    parts = [out / PARTS / f"defects_{run.name}.parquet" for run in runs]
    defects = concat_defect_logs(parts, out / "defects.parquet")
    shutil.rmtree(out / PARTS)
    truth_rows = truth.write(out / "ground_truth.parquet")
    manifest: dict[str, object] = {
        "scale": params.scale,
        "seed": params.seed,
        "start": params.start.isoformat(),
        "end": params.end.isoformat(),
        "defect_rate": params.defect_rate,
        "servers": {
            "postgresql": params.pg_url is not None,
            "mariadb": params.mysql_url is not None,
        },
        "written": {run.name: run.written for run in runs},
        "defects": defects,
        "ground_truth_rows": truth_rows,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest
