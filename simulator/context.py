"""What every sector generator receives: the run's parameters, the frame and the two logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from simulator.frame import AdminFrame
from simulator.records import DefectLog, GroundTruth
from simulator.rng import stream


@dataclass
class SimContext:
    """One generation run. ``out`` is the simulation folder (``IOC_HOME/sim``)."""

    out: Path
    seed: int
    scale: float
    start: date
    end: date  # inclusive
    defect_rate: float
    frame: AdminFrame
    defects: DefectLog
    truth: GroundTruth
    pg_url: str | None = None  # PostgreSQL for systems served by it; None → SQLite fallback
    mysql_url: str | None = None  # MariaDB likewise
    # Prefix of the databases created on those servers; tests use their own, so they never
    # drop the demo province's databases.
    db_prefix: str = "sim_"
    notes: dict[str, str] = field(default_factory=dict)

    def rng(self, *names: object) -> np.random.Generator:
        return stream(self.seed, *names)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def scaled(self, full_size: float) -> int:
        """A count at this scale, never below one (a province always has at least one)."""
        return max(1, round(full_size * self.scale))
