"""A small simulation context for sector tests: tiny scale, a few weeks around the 2025 change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from iochub.settings import get_settings
from simulator.context import SimContext
from simulator.frame import AdminFrame
from simulator.generate import reachable
from simulator.records import DefectLog, GroundTruth

_FRAMES: dict[int, AdminFrame] = {}


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[..., SimContext]:
    """``make_ctx(scale=0.002, start=..., end=..., servers=False, ...)`` → a fresh SimContext.

    ``servers=True`` uses PostgreSQL / MariaDB when they answer (CI has them); the default uses
    the SQLite fallback. Call ``ctx.defects.close()`` before reading ``defects.parquet``.
    """

    def make(
        scale: float = 0.002,
        seed: int = 7,
        start: date = date(2025, 6, 1),
        end: date = date(2025, 7, 31),
        defect_rate: float = 0.02,
        servers: bool = False,
        out: Path | None = None,
        **_: Any,
    ) -> SimContext:
        folder = out or tmp_path / "sim"
        folder.mkdir(parents=True, exist_ok=True)
        settings = get_settings()
        frame = _FRAMES.setdefault(seed, AdminFrame(seed))
        return SimContext(
            out=folder,
            seed=seed,
            scale=scale,
            start=start,
            end=end,
            defect_rate=defect_rate,
            frame=frame,
            defects=DefectLog(folder / "defects.parquet"),
            truth=GroundTruth(),
            pg_url=settings.sim_pg_url if servers and reachable(settings.sim_pg_url) else None,
            mysql_url=(
                settings.sim_mysql_url if servers and reachable(settings.sim_mysql_url) else None
            ),
            db_prefix=settings.sim_db_prefix,
        )

    return make
