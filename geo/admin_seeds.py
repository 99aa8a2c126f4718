"""Builds the admin-unit seeds of the dbt project from the ``vietnamadminunits`` package (MIT).

Two structures of the province's territory: the current one (from 1 July 2025: new Đồng Tháp,
code 82, 102 communes, with centroid and area) and the one before (old Đồng Tháp 87 and old
Tiền Giang 82, with districts, 305 communes, with geocoded centroids), and the crosswalk from
every old commune to its new commune(s). The CSVs are versioned in ``dbt_project/seeds/admin/``
so a build never depends on the package's data at run time; run ``ioc geo admin-seeds`` to
regenerate them after upgrading the package, and review the diff.

The crosswalk is the package's own: each old commune goes through its converter
(``convert_address``, old address without a street → the default new commune), and the
package's list of divided communes (``converter_2025.DICT_PROVINCE_WARD_DIVIDED``) gives the
other targets of a split. ``geo/admin_corrections.yaml`` then applies the reviewed corrections
(admin_units.md, "the six suspect splits"); each one must still match what the package says,
and every split of the package must be either corrected or listed as kept, or the build fails.

The package gives no share of an old commune's area or population per new commune, so
``share`` is 1 for a whole mapping and empty for the targets of a split (use the default
target). Nothing goes to the network: the converter's geocoder is only reached for an address
with a street, and it is disabled here anyway.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from vietnamadminunits import convert_address
from vietnamadminunits.converter import converter_2025
from vietnamadminunits.database import query

CURRENT_PROVINCES = ("82",)
LEGACY_PROVINCES = ("82", "87")
NEW_PROVINCE_KEY = "tinhdongthap"
VALID_FROM = "2025-07-01"
CORRECTIONS_FILE = Path(__file__).with_name("admin_corrections.yaml")

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
LEGACY_DISTRICT_COLUMNS = {
    "district_code": "districtCode",
    "district_name": "district",
    "district_type": "districtType",
    "province_code": "provinceCode",
    "province_name": "province",
    "latitude": "districtLat",
    "longitude": "districtLon",
}
PROVINCE_COLUMNS = {
    "province_code": "provinceCode",
    "province_name": "province",
    "latitude": "provinceLat",
    "longitude": "provinceLon",
}
CROSSWALK_COLUMNS = [
    "legacy_commune_code",
    "legacy_district_code",
    "legacy_province_code",
    "new_commune_code",
    "is_split",
    "is_default_target",
    "share",
    "valid_from",
    "correction_id",
]


class AdminSeedError(RuntimeError):
    """The package's data or the corrections file is not what the seeds expect."""


@dataclass(frozen=True)
class Target:
    code: str
    is_default: bool


def _text(value: object) -> str:
    return "" if value is None else unicodedata.normalize("NFC", str(value))


def _rows(
    table: str, columns: dict[str, str], provinces: Sequence[str], order: str
) -> list[list[str]]:
    select = ", ".join(f"[{source}]" for source in columns.values())
    codes = ", ".join(f"'{code}'" for code in provinces)
    records = query(
        f"SELECT DISTINCT {select} FROM [{table}] WHERE provinceCode IN ({codes}) ORDER BY {order}"
    )
    return [[_text(r[c]) for c in columns.values()] for r in records]


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


@contextmanager
def _offline() -> Iterator[None]:
    """Make the converter's geocoder fail instead of reaching the network."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AdminSeedError("the converter tried to geocode an address (network); refused")

    saved = converter_2025.get_geo_location
    converter_2025.get_geo_location = refuse
    try:
        yield
    finally:
        converter_2025.get_geo_location = saved


def load_corrections(path: Path = CORRECTIONS_FILE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    ids = [c["id"] for c in data.get("corrections", [])]
    if len(ids) != len(set(ids)):
        raise AdminSeedError(f"duplicate correction ids in {path.name}")
    for entry in data.get("corrections", []):
        missing = {"id", "legacy_commune_code", "package_says", "action", "we_use", "reason"}
        missing -= set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            raise AdminSeedError(
                f"correction {entry.get('id')} lacks {sorted(missing) or 'reason'}"
            )
    return data


def package_crosswalk() -> dict[str, list[Target]]:
    """Old commune code → its new communes, as the package says (before corrections)."""
    new_by_key: dict[str, list[str]] = {}
    for r in query(
        "SELECT wardKey, wardCode FROM admin_units WHERE provinceCode IN ("
        + ", ".join(f"'{c}'" for c in CURRENT_PROVINCES)
        + ")"
    ):
        new_by_key.setdefault(r["wardKey"], []).append(r["wardCode"])

    def new_code(key: str) -> str:
        codes = new_by_key.get(key, [])
        if len(codes) != 1:
            raise AdminSeedError(f"new ward key {key!r} matches {codes} in province 82")
        return codes[0]

    divided = converter_2025.DICT_PROVINCE_WARD_DIVIDED.get(NEW_PROVINCE_KEY, {})
    codes = ", ".join(f"'{c}'" for c in LEGACY_PROVINCES)
    legacy = query(
        "SELECT wardCode, ward, district, province, provinceKey, districtKey, wardKey "
        f"FROM admin_units_legacy WHERE provinceCode IN ({codes}) ORDER BY wardCode"
    )
    result: dict[str, list[Target]] = {}
    with _offline():
        for r in legacy:
            # The package's API: an old address without a street → its default new commune.
            unit = convert_address(f"{r['ward']}, {r['district']}, {r['province']}")
            default = _text(unit.ward_code)
            if not default or _text(unit.province_code) not in CURRENT_PROVINCES:
                raise AdminSeedError(f"{r['wardCode']} {r['ward']}: no new commune in 82")
            key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"
            if key in divided:
                targets = [
                    Target(new_code(w["newWardKey"]), bool(w["isDefaultNewWard"]))
                    for w in divided[key]
                ]
                defaults = [t.code for t in targets if t.is_default]
                if defaults != [default]:
                    raise AdminSeedError(f"{r['wardCode']}: converter {default}, list {defaults}")
            else:
                targets = [Target(default, True)]
            result[_text(r["wardCode"])] = targets
    return result


def apply_corrections(
    crosswalk: dict[str, list[Target]], corrections: dict[str, Any]
) -> tuple[dict[str, list[Target]], dict[str, str]]:
    """Return the corrected crosswalk and legacy commune code → correction id."""
    corrected = {code: list(targets) for code, targets in crosswalk.items()}
    applied: dict[str, str] = {}
    for entry in corrections.get("corrections", []):
        code = str(entry["legacy_commune_code"])
        targets = corrected.get(code)
        if targets is None:
            raise AdminSeedError(f"{entry['id']}: {code} is not an old commune of the province")
        says = entry["package_says"]
        defaults = [t.code for t in targets if t.is_default]
        if sorted(t.code for t in targets) != sorted(says["targets"]) or defaults != [
            says["default_target"]
        ]:
            raise AdminSeedError(
                f"{entry['id']}: the package no longer says {says} for {code}; review it again"
            )
        if entry["action"] != "drop_target":
            raise AdminSeedError(f"{entry['id']}: unknown action {entry['action']!r}")
        drop = str(entry["target"])
        if drop == says["default_target"]:
            raise AdminSeedError(f"{entry['id']}: cannot drop the default target")
        targets = [t for t in targets if t.code != drop]
        uses = entry["we_use"]
        if sorted(t.code for t in targets) != sorted(uses["targets"]) or [
            t.code for t in targets if t.is_default
        ] != [uses["default_target"]]:
            raise AdminSeedError(f"{entry['id']}: result differs from we_use {uses}")
        corrected[code] = targets
        applied[code] = str(entry["id"])

    kept = {str(k["legacy_commune_code"]): k for k in corrections.get("kept_splits", [])}
    for code, targets in crosswalk.items():
        if len(targets) > 1 and code not in applied and code not in kept:
            raise AdminSeedError(f"split of {code} is neither corrected nor kept: review it")
    for code, entry in kept.items():
        if sorted(t.code for t in crosswalk.get(code, [])) != sorted(entry["targets"]):
            raise AdminSeedError(f"kept split {code} no longer matches the package; review it")
    return corrected, applied


def crosswalk_rows(
    crosswalk: dict[str, list[Target]],
    applied: dict[str, str],
    legacy: dict[str, tuple[str, str]],
) -> list[list[str]]:
    rows = []
    for code in sorted(crosswalk):
        targets = crosswalk[code]
        district, province = legacy[code]
        split = len(targets) > 1
        for t in sorted(targets, key=lambda t: (not t.is_default, t.code)):
            rows.append(
                [
                    code,
                    district,
                    province,
                    t.code,
                    "true" if split else "false",
                    "true" if t.is_default else "false",
                    "" if split else "1",
                    VALID_FROM,
                    applied.get(code, ""),
                ]
            )
    return rows


def build_admin_seeds(seed_dir: Path, corrections_file: Path = CORRECTIONS_FILE) -> dict[str, int]:
    """Write both structures' CSVs and the crosswalk into ``seed_dir``; rows written per file."""
    current = _rows("admin_units", CURRENT_COLUMNS, CURRENT_PROVINCES, "wardCode")
    legacy = _rows("admin_units_legacy", LEGACY_COLUMNS, LEGACY_PROVINCES, "wardCode")
    districts = _rows(
        "admin_units_legacy", LEGACY_DISTRICT_COLUMNS, LEGACY_PROVINCES, "districtCode"
    )
    provinces_2025 = _rows("admin_units", PROVINCE_COLUMNS, CURRENT_PROVINCES, "provinceCode")
    provinces_legacy = _rows(
        "admin_units_legacy", PROVINCE_COLUMNS, LEGACY_PROVINCES, "provinceCode"
    )
    for name, rows in (("districts", districts), ("provinces", provinces_legacy)):
        keys = [r[0] for r in rows]
        if len(keys) != len(set(keys)):
            raise AdminSeedError(f"legacy {name} have more than one row per code")

    corrected, applied = apply_corrections(package_crosswalk(), load_corrections(corrections_file))
    legacy_parents = {r[0]: (r[3], r[5]) for r in legacy}
    if set(corrected) != set(legacy_parents):
        raise AdminSeedError("the crosswalk does not cover exactly the old communes")
    current_codes = {r[0] for r in current}
    reached = {t.code for targets in corrected.values() for t in targets}
    if not reached <= current_codes:
        raise AdminSeedError(
            f"crosswalk targets outside the new province: {reached - current_codes}"
        )
    crosswalk = crosswalk_rows(corrected, applied, legacy_parents)

    files: dict[str, tuple[Sequence[str], list[list[str]]]] = {
        "admin_province_2025.csv": (list(PROVINCE_COLUMNS), provinces_2025),
        "admin_unit_2025.csv": (list(CURRENT_COLUMNS), current),
        "admin_province_legacy.csv": (list(PROVINCE_COLUMNS), provinces_legacy),
        "admin_district_legacy.csv": (list(LEGACY_DISTRICT_COLUMNS), districts),
        "admin_unit_legacy.csv": (list(LEGACY_COLUMNS), legacy),
        "admin_crosswalk.csv": (CROSSWALK_COLUMNS, crosswalk),
    }
    for name, (header, rows) in files.items():
        _write(seed_dir / name, header, rows)
    return {name: len(rows) for name, (_, rows) in files.items()}
