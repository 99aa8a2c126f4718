"""Random draws handed out from a block of uniforms drawn at once (numpy) for one dossier.

Calling a numpy ``Generator`` for each scalar costs about a microsecond; the one-stop system draws
some eighty numbers per dossier, a million dossiers a year at scale 1. The day's stream therefore
draws one ``(dossiers, DRAWS)`` block of uniforms in a single call and each dossier takes its
numbers from its own row, in a fixed order that never depends on the end of the data (so a run to
a later end draws the same numbers: prefix stability). A row that runs out (never in practice)
continues from a stream seeded by the dossier's identity, so it stays deterministic.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

import numpy as np

T = TypeVar("T")
DRAWS = 112  # uniforms per dossier row; a dossier uses about 30–65 (max seen 64)


def cumulative(p: Sequence[float]) -> list[float]:
    """Cumulative probabilities (the last forced to 1) for :meth:`Draws.pick`."""
    cum = list(accumulate(float(x) for x in p))
    cum[-1] = 1.0
    return cum


class Draws:
    """The subset of ``numpy.random.Generator`` the sector uses, served from a list of uniforms."""

    __slots__ = ("_i", "_spill", "_spill_seed", "_u")

    def __init__(self, uniforms: list[float], spill_seed: Sequence[int]) -> None:
        self._u = uniforms
        self._i = 0
        self._spill: np.random.Generator | None = None
        self._spill_seed = list(spill_seed)

    def random(self) -> float:
        i = self._i
        if i < len(self._u):
            self._i = i + 1
            return self._u[i]
        if self._spill is None:
            self._spill = np.random.default_rng(self._spill_seed)
        return float(self._spill.random())

    def integers(self, low: int, high: int | None = None) -> int:
        """An integer in [low, high), or [0, low) with one argument (``Generator.integers``)."""
        if high is None:
            low, high = 0, low
        return low + int(self.random() * (high - low))

    def pick(self, options: Sequence[T], cum: Sequence[float]) -> T:
        """One of ``options`` with the probabilities whose :func:`cumulative` is ``cum``."""
        return options[min(bisect_right(cum, self.random()), len(options) - 1)]

    def index(self, cum: Sequence[float]) -> int:
        """An index drawn with the probabilities whose :func:`cumulative` is ``cum``."""
        return min(bisect_right(cum, self.random()), len(cum) - 1)
