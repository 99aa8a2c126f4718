"""Deterministic random streams: the same seed gives the same bytes, whatever runs first.

Every generator asks for its own named stream (``stream(seed, "health", "episodes", day)``), so
adding a sector or reordering work never shifts the numbers another sector draws.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream(seed: int, *names: object) -> np.random.Generator:
    """A generator seeded by ``seed`` and the stream's names (stable across Python runs)."""
    digest = hashlib.sha256("/".join(str(n) for n in names).encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *words])))
