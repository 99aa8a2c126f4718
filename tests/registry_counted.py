"""Indicators whose denominator counts the registry's systems, for tests with a known answer.

The simulator's ground truth and the hand-written KPI cases count the demo province's systems
(the 28 agriculture databases). A source a data engineer adds with `simulated: false` is a
system too: the warehouse counts it, and it never delivers in these tests (they land simulated
sources, or their own cases). The expected denominators scale by declared / simulated systems of
the sector and the values by its inverse; numerators do not change.
"""

from __future__ import annotations

from fractions import Fraction

from connectors.registry import load_registry
from iochub.settings import Settings

REGISTRY_COUNTED = {"OPS-AGRI-SYSTEMS-OPERATING": "agriculture"}


def registry_scales(settings: Settings) -> dict[str, Fraction]:
    """Per indicator of ``REGISTRY_COUNTED``: declared systems of its sector / simulated ones."""
    sources = list(load_registry(settings).values())
    scales = {}
    for kpi, sector in REGISTRY_COUNTED.items():
        declared = [s for s in sources if s.sector == sector]
        scales[kpi] = Fraction(len(declared), sum(1 for s in declared if s.simulated))
    return scales
