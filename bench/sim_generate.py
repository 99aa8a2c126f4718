"""Demo-province generation: each sector alone, one month at scale 0.01, SQLite vs servers.

The issue's target is scale 1 (one province-year) within 10 minutes and 4 GB; this measures
per-sector throughput so the extrapolation (×100 scale, ×12 months) is visible in one table,
and what loading into PostgreSQL / MariaDB costs against the SQLite fallback.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from iochub.settings import get_settings
from simulator.generate import GenerateParams, generate, sector_modules

# September: after the reorganisation, and the month of the education term export.
MONTH = (date(2025, 9, 1), date(2025, 9, 30))


def _case(sector: str, servers: bool) -> Callable[[], int]:
    settings = get_settings()

    def run() -> int:
        root = Path(tempfile.mkdtemp(prefix="iochub-bench-sim-"))
        out = root / "sim"
        params = GenerateParams(
            scale=0.01,
            seed=1,
            start=MONTH[0],
            end=MONTH[1],
            pg_url=settings.sim_pg_url if servers else None,
            mysql_url=settings.sim_mysql_url if servers else None,
            db_prefix="simbench_",
        )
        try:
            manifest = generate(out, params, only=[sector], workers=1)
        finally:
            shutil.rmtree(root)
        written = manifest["written"]
        assert isinstance(written, dict)
        return sum(int(v) for v in written[sector].values())

    return run


def sim_cases() -> list[tuple[str, str, Callable[[], int], int]]:
    cases = []
    for module in sector_modules():
        sector = module.rsplit(".", 1)[1]
        group = f"sim {sector}, 1 month @0.01 (records)"
        cases.append((group, "SQLite files", _case(sector, servers=False), 1))
        cases.append((group, "PostgreSQL/MariaDB", _case(sector, servers=True), 1))
    return cases
