"""The admin frame of the demo province, before and after the 1 July 2025 reorganisation.

Read straight from the ``vietnamadminunits`` package (its bundled SQLite file and crosswalk),
independently of the warehouse's own seeds, so the simulator and the warehouse do not share code
whose bugs could cancel out. Before the change: old Đồng Tháp (87) and old Tiền Giang (82) with
districts, 305 communes; after: the new Đồng Tháp (82), 102 communes. Each old commune maps to
its new commune (split communes to their default target, as the package marks it).

Populations are the simulator's own: the 2019 census totals of the two old provinces (about
1.6 and 1.76 million) shared among communes by deterministic weights (wards denser than rural
communes), so every generated resident has an old and a new commune.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
import vietnamadminunits
from vietnamadminunits.database import query

from simulator.rng import stream

REORGANISATION = date(2025, 7, 1)
NEW_PROVINCE = "82"
OLD_PROVINCES = {"87": 1_600_000, "82": 1_760_000}  # 2019 census, rounded (province_facts.md)


@dataclass(frozen=True)
class OldCommune:
    code: str
    name: str
    district_code: str
    district_name: str
    province_code: str
    latitude: float
    longitude: float
    new_code: str  # the commune it became on 1 July 2025 (default target when split)


@dataclass(frozen=True)
class NewCommune:
    code: str
    name: str
    kind: str  # Xã | Phường
    latitude: float
    longitude: float
    area_km2: float


def _converter() -> dict[str, dict[str, object]]:
    path = Path(vietnamadminunits.__file__).parent / "data" / "converter_2025.json"
    data: dict[str, dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return data


class AdminFrame:
    """Communes of both structures, the old→new mapping and simulated populations."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    @cached_property
    def new_communes(self) -> list[NewCommune]:
        rows = query(
            "SELECT wardCode, ward, wardType, wardLat, wardLon, wardAreaKm2 FROM admin_units "
            f"WHERE provinceCode = '{NEW_PROVINCE}' ORDER BY wardCode"
        )
        return [
            NewCommune(
                r["wardCode"],
                r["ward"],
                r["wardType"],
                r["wardLat"],
                r["wardLon"],
                r["wardAreaKm2"],
            )
            for r in rows
        ]

    @cached_property
    def old_communes(self) -> list[OldCommune]:
        new_by_key = {
            r["wardKey"]: r["wardCode"]
            for r in query(
                f"SELECT wardKey, wardCode FROM admin_units WHERE provinceCode = '{NEW_PROVINCE}'"
            )
        }
        conv = _converter()
        target: dict[str, str] = {}
        undivided = conv["DICT_PROVINCE_WARD_NO_DIVIDED"]["tinhdongthap"]
        assert isinstance(undivided, dict)
        for new_key, old_keys in undivided.items():
            for old_key in old_keys:
                target[old_key] = new_by_key[new_key]
        divided = conv["DICT_PROVINCE_WARD_DIVIDED"]["tinhdongthap"]
        assert isinstance(divided, dict)
        for old_key, options in divided.items():
            default = next(o for o in options if o["isDefaultNewWard"])
            target[old_key] = new_by_key[default["newWardKey"]]
        rows = query(
            "SELECT wardCode, ward, districtCode, district, provinceCode, wardLat, wardLon, "
            "provinceKey, districtKey, wardKey FROM admin_units_legacy "
            f"WHERE provinceCode IN ({', '.join(repr(c) for c in OLD_PROVINCES)}) ORDER BY wardCode"
        )
        return [
            OldCommune(
                r["wardCode"],
                r["ward"],
                r["districtCode"],
                r["district"],
                r["provinceCode"],
                r["wardLat"],
                r["wardLon"],
                target[f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"],
            )
            for r in rows
        ]

    @cached_property
    def population(self) -> np.ndarray:
        """Residents per old commune (aligned with :attr:`old_communes`), census totals kept."""
        rng = stream(self.seed, "frame", "population")
        weights = np.array(
            [(2.5 if c.name.startswith("Phường") else 1.0) for c in self.old_communes]
        ) * rng.lognormal(0.0, 0.35, len(self.old_communes))
        population = np.zeros(len(self.old_communes), dtype=np.int64)
        for province, total in OLD_PROVINCES.items():
            mask = np.array([c.province_code == province for c in self.old_communes])
            share = weights[mask] / weights[mask].sum()
            population[mask] = np.floor(share * total).astype(np.int64)
        return population

    def old(self, code: str) -> OldCommune:
        return self._old_by_code[code]

    @cached_property
    def _old_by_code(self) -> dict[str, OldCommune]:
        return {c.code: c for c in self.old_communes}

    def new(self, code: str) -> NewCommune:
        return self._new_by_code[code]

    @cached_property
    def _new_by_code(self) -> dict[str, NewCommune]:
        return {c.code: c for c in self.new_communes}

    def codes_on(self, old_code: str, day: date) -> tuple[str, str | None, str]:
        """(province, district or None, commune) codes an up-to-date system sends on ``day``."""
        commune = self.old(old_code)
        if day < REORGANISATION:
            return commune.province_code, commune.district_code, commune.code
        return NEW_PROVINCE, None, commune.new_code
