"""Builds the admin-unit seeds of the dbt project from the ``vietnamadminunits`` package (MIT).

Two structures of the province's territory: the current one (from 1 July 2025: new Đồng Tháp,
code 82, 102 communes, with centroid and area) and the one before (old Đồng Tháp 87 and old
Tiền Giang 82, with districts, 305 communes, with geocoded centroids). The CSVs are versioned in
``dbt_project/seeds/admin/`` so a build never depends on the package's data at run time; run
``ioc geo admin-seeds`` to regenerate them after upgrading the package, and review the diff.
The package's own query helper reads its bundled SQLite file; nothing goes to the network.
"""

from __future__ import annotations

import csv
from pathlib import Path

from vietnamadminunits.database import query

CURRENT_PROVINCES = ("82",)
LEGACY_PROVINCES = ("82", "87")

CURRENT_COLUMNS = {
    "commune_code": "wardCode",
    "commune_name": "ward",
    "commune_type": "wardType",
    "province_code": "provinceCode",
    "province_name": "province",
    "latitude": "wardLat",
    "longitude": "wardLon",
    "area_km2": "wardAreaKm2",
}
LEGACY_COLUMNS = {
    "commune_code": "wardCode",
    "commune_name": "ward",
    "commune_type": "wardType",
    "district_code": "districtCode",
    "district_name": "district",
    "province_code": "provinceCode",
    "province_name": "province",
    "latitude": "wardLat",
    "longitude": "wardLon",
}


def _rows(table: str, columns: dict[str, str], provinces: tuple[str, ...]) -> list[list[str]]:
    select = ", ".join(f"[{source}]" for source in columns.values())
    codes = ", ".join(f"'{code}'" for code in provinces)
    records = query(
        f"SELECT DISTINCT {select} FROM [{table}] WHERE provinceCode IN ({codes}) ORDER BY wardCode"
    )
    return [["" if r[c] is None else str(r[c]) for c in columns.values()] for r in records]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def build_admin_seeds(seed_dir: Path) -> dict[str, int]:
    """Write both structures' CSVs into ``seed_dir``; returns rows written per file."""
    current = _rows("admin_units", CURRENT_COLUMNS, CURRENT_PROVINCES)
    legacy = _rows("admin_units_legacy", LEGACY_COLUMNS, LEGACY_PROVINCES)
    _write(seed_dir / "admin_unit_2025.csv", list(CURRENT_COLUMNS), current)
    _write(seed_dir / "admin_unit_legacy.csv", list(LEGACY_COLUMNS), legacy)
    return {"admin_unit_2025.csv": len(current), "admin_unit_legacy.csv": len(legacy)}
