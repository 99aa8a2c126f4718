"""What the runner needs of one source system's hand-written cases.

Each ``*_source.py`` module of this folder writes its cases in the system's own layout and
declares a ``CaseSource``: the folder (under the run's root) it writes into, the environment
that points the registered connectors at that folder, how it writes each stage (``first``:
as the system stands at the first landing; ``later``: after the changes the cases make before
the second) and which registered sources land it. test_kpi_cases.py lands every declared
source after each stage, so a new system's cases need only their module and one entry in its
``CASE_SOURCES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

STAGES = ("first", "later")


@dataclass(frozen=True)
class CaseSource:
    folder: str  # under the run's root
    env: Callable[[Path], dict[str, str]]  # the written folder → the connectors' settings
    write: Callable[[Path, str], object]  # (folder, stage) → writes that stage's files or rows
    sources: tuple[str, ...]  # the registered sources that land it, in order
