"""The hand-written agriculture cases as four of the 28 systems' own stores.

``agriculture/deliveries.yaml`` holds, per system, its deliveries by hand: report date, when it
reaches the system (first or later landing) and its rows per table. This module writes them
with the simulator's writers (``simulator.agriculture.sinks``), so only the container is the
simulator's: TT01, BVTV01 and DT03 as their databases (SQLite files with the systems' tables
and columns, read by the ``sql`` connectors as they read the demo's fallback files), DT01 as its
monthly report workbooks (``reports/<template>/<yyyy-mm>.xlsx``, read by the ``files``
connector). Each stage writes every delivery that has reached the system by then; the systems
only add rows, so the second extract reads the later deliveries past its cursor (report_date)
and the unchanged workbooks are not landed again.
"""

from __future__ import annotations

import csv
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from iochub.settings import REPO_ROOT
from simulator.agriculture.generate import load_systems
from simulator.agriculture.sinks import Row, Sink, SqlSink, XlsxSink, columns
from simulator.frame import REORGANISATION
from tests.kpi_cases.case_source import CaseSource

AGRICULTURE_DIR = Path(__file__).parent / "agriculture"
DELIVERIES = AGRICULTURE_DIR / "deliveries.yaml"
ADMIN_SEEDS = REPO_ROOT / "dbt_project" / "seeds" / "admin"
_ENVELOPE = {"record_id", "commune", "district", "province", "sent"}
# The connection settings of the landed systems (connection.env of their declarations).
_CONNECTIONS = {
    "TT01": "IOC_AGRI_TT01_URL",
    "BVTV01": "IOC_AGRI_BVTV01_URL",
    "DT03": "IOC_AGRI_DT03_URL",
    "DT01": "IOC_AGRI_DT01_DIR",
}


def load_agriculture_cases(path: Path = DELIVERIES) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


@cache
def _commune_names() -> tuple[dict[str, str], dict[str, str]]:
    """(old code → old name, 2025 code → 2025 name), from the admin seeds."""
    names = []
    for seed in ("admin_unit_legacy.csv", "admin_unit_2025.csv"):
        with (ADMIN_SEEDS / seed).open(encoding="utf-8", newline="") as handle:
            names.append(
                {row["commune_code"]: row["commune_name"] for row in csv.DictReader(handle)}
            )
    return names[0], names[1]


def _commune_name(code: str, day: date) -> str:
    """The name a system sends with ``code``: the 2025 name of a 2025 code from July 2025."""
    legacy, current = _commune_names()
    if day >= REORGANISATION and code in current:
        return current[code]
    return legacy[code]


def _rows(
    table: str, day: date, written: list[dict[str, Any]], defaults: dict[str, Any]
) -> list[Row]:
    names = [name for name, _ in columns(table)]
    out: list[Row] = []
    for given in written:
        values = {**defaults.get(table, {}), **given}
        unknown = set(values) - set(names) - _ENVELOPE
        if unknown:
            raise ValueError(f"{given['record_id']}: no column(s) {sorted(unknown)} in {table}")
        commune = str(values["commune"])
        values.update(
            report_date=day,
            province_code=str(values.get("province", "82")),
            district_code=str(values.get("district", "")),
            commune_code=commune,
            commune_name=_commune_name(commune, day),
        )
        row = tuple(values[name] for name in names)
        out += [row] * int(values.get("sent", 1))
    return out


def _sink(code: str, tables: list[str], folder: Path) -> Sink:
    kind = {system.code: system.kind for system in load_systems()}[code]
    if kind == "xlsx":
        # No note above the header: the workbooks are the case's, not a defect draw.
        return XlsxSink(code, tables, folder, np.random.default_rng(0), rate=0.0)
    return SqlSink(code, tables, folder, "sqlite", None, "")


def write_systems(folder: Path, cases: dict[str, Any], stage: str) -> dict[str, int]:
    """Every system's store as it stands at ``stage``; rows written per system."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {system.code: list(system.tables) for system in load_systems()}
    written: dict[str, int] = {}
    for code, deliveries in cases["systems"].items():
        sink = _sink(code, tables[code], folder)
        written[code] = 0
        for delivery in deliveries:
            if stage == "first" and delivery.get("landing", "first") != "first":
                continue
            for table, rows in delivery["rows"].items():
                data = _rows(table, delivery["day"], rows, cases["defaults"])
                sink.write(table, data, delivery["day"])
                written[code] += len(data)
        sink.close()
    return written


def _env(folder: Path) -> dict[str, str]:
    return {
        name: str(folder / "reports") if code == "DT01" else f"sqlite://{folder / f'{code}.sqlite'}"
        for code, name in _CONNECTIONS.items()
    }


CASE_SOURCE = CaseSource(
    folder="agriculture",
    env=_env,
    write=lambda folder, stage: write_systems(folder, load_agriculture_cases(), stage),
    sources=tuple(f"agri_{code.lower()}" for code in _CONNECTIONS),
)
