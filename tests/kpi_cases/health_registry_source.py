"""The hand-written health registry, telemedicine and booking cases in their systems' layouts.

``health_registry/registry.yaml`` holds the EHR registry's rows (facilities, commune_population,
persons) and the telemedicine and booking apps' monthly exports by hand. This module writes the
registry into a SQLite file with the simulator's DDL (``simulator.health.ehr``, the tables the
demo's registry database has; immunisations stays empty) and the exports as
``telemedicine/sessions_<yyyymm>.csv`` and ``booking/appointments_<yyyymm>.csv`` with the
simulator's columns (``simulator.health.telemedicine``): only the containers are the
simulator's, every value is the case's. Before the second landing the registry rows take their
``later`` values (a record updated in place, a facility or population row corrected) and the
exports are written as they stand then (a month re-exported, a new month's file).
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import Any

import yaml

from simulator.health.ehr import (
    FACILITY_COLUMNS,
    IMMUNISATION_COLUMNS,
    PERSON_COLUMNS,
    POPULATION_COLUMNS,
)
from simulator.health.telemedicine import BOOKING_COLUMNS, SESSION_COLUMNS
from tests.kpi_cases.case_source import CaseSource

REGISTRY_DIR = Path(__file__).parent / "health_registry"
REGISTRY = REGISTRY_DIR / "registry.yaml"
DATABASE = "ehr_registry.sqlite"
# The registry's tables, their columns and keys as the simulator creates them.
TABLES = {
    "persons": (PERSON_COLUMNS, "person_id"),
    "immunisations": (IMMUNISATION_COLUMNS, "person_id, vaccine_code, dose"),
    "commune_population": (POPULATION_COLUMNS, "old_commune"),
    "facilities": (FACILITY_COLUMNS, "facility_code"),
}
# The exports: case key → (drop folder, columns).
EXPORTS = {
    "sessions": ("telemedicine", SESSION_COLUMNS),
    "appointments": ("booking", BOOKING_COLUMNS),
}


def load_registry_cases(path: Path = REGISTRY) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def write_registry(path: Path, cases: dict[str, Any], stage: str) -> dict[str, int]:
    """The registry as it stands at ``stage`` (a fresh file each time); rows per table."""
    path.unlink(missing_ok=True)
    written = {}
    with sqlite3.connect(path) as db:
        for table, (columns, key) in TABLES.items():
            body = ", ".join(f"{name} {kind}" for name, kind in columns)
            db.execute(f"CREATE TABLE {table} ({body}, PRIMARY KEY ({key}))")
            names = [name for name, _ in columns]
            rows = []
            for row in cases.get(table, []):
                values = {**row, **(row.get("later", {}) if stage == "later" else {})}
                unknown = set(values) - {*names, "later"}
                if unknown:
                    raise ValueError(f"{table}: no column(s) {sorted(unknown)}")
                rows.append(tuple(values.get(name) for name in names))
            marks = ", ".join("?" for _ in names)
            db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
            written[table] = len(rows)
    db.close()
    return written


def write_exports(folder: Path, cases: dict[str, Any], stage: str) -> int:
    """Each export file that has rows at ``stage``, written whole; files written."""
    written = 0
    for key, (drop, columns) in EXPORTS.items():
        (folder / drop).mkdir(parents=True, exist_ok=True)
        for export in cases.get(key, []):
            rows = export.get(stage)
            if rows is None:
                continue  # not exported yet, or unchanged since the first landing
            with (folder / drop / export["file"]).open("w", encoding="utf-8", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
            written += 1
    return written


def _write_stage(folder: Path, stage: str) -> None:
    cases = load_registry_cases()
    write_registry(folder / DATABASE, cases, stage)
    write_exports(folder, cases, stage)


CASE_SOURCE = CaseSource(
    folder="health_registry",
    env=lambda folder: {
        "IOC_HEALTH_EHR_URL": f"sqlite://{folder / DATABASE}",
        "IOC_HEALTH_TELEMEDICINE_DIR": str(folder / "telemedicine"),
        "IOC_HEALTH_BOOKING_DIR": str(folder / "booking"),
    },
    write=_write_stage,
    sources=("ehr_registry", "health_telemedicine", "health_booking"),
)
