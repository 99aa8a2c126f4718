"""The province's IoT station registry: 6 water-monitoring stations and 15 light traps.

Stations are placed on old communes of the districts where each hazard is real: salinity
intrusion reaches the Gò Công side of old Tiền Giang (coast of the East Sea) in the dry season,
the annual flood enters upstream at Tân Hồng / Hồng Ngự, and light traps sit in rice districts.
Each station keeps the old commune it was installed in (its new commune follows from the frame);
coordinates are the commune centroid shifted by a few hundred metres, deterministic for a seed.

The two flood stations carry an alarm level I (mực nước báo động I) in the register: demo values
placed a little below the crest of the simulated flood, so that the October peak and its high
tides cross them. The province sets the real ones per station (by QĐ 05/2020/QĐ-TTg for a river
gauge); the coastal stations have none here, as a station the province has not set a level for.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.frame import AdminFrame
from simulator.rng import stream


@dataclass(frozen=True)
class Station:
    code: str
    kind: str  # water | insect
    name: str
    old_commune: str
    new_commune: str
    latitude: float
    longitude: float
    coastal: float  # 0..1: how far salt water reaches (water stations)
    upstream: float  # 0..1: how strongly the flood lifts the level (water stations)
    legacy_codes: bool  # firmware never updated: keeps sending old admin codes after 2025-07-01
    water_level_alarm_cm: float | None  # alarm level I in the register; None = not set


# (district, coastal, upstream, legacy firmware, alarm level I in cm): Gò Công Đông / Tân Phú
# Đông / Gò Công Tây on the coast, Cái Bè in between, Tân Hồng and Hồng Ngự (district) where the
# flood arrives. The flood's crest is about 450 cm at Tân Hồng and 400 cm at Hồng Ngự, ±20 cm of
# tide (generate._water_day): the demo levels are crossed for a few weeks around mid-October.
WATER_SITES = [
    ("824", 1.0, 0.0, False, None),
    ("825", 0.9, 0.0, True, None),
    ("823", 0.6, 0.05, False, None),
    ("819", 0.15, 0.3, False, None),
    ("869", 0.0, 1.0, False, 420.0),
    ("870", 0.0, 0.85, False, 390.0),
]
# One light trap per rice-growing district (Đồng Tháp Mười plain and Tiền Giang's rice belt).
TRAP_DISTRICTS = [
    "869",
    "870",
    "871",
    "872",
    "873",
    "874",
    "875",
    "876",
    "877",
    "817",
    "818",
    "819",
    "820",
    "821",
    "822",
]
LEGACY_TRAPS = {"LT-04", "LT-11", "LT-13"}


def stations(frame: AdminFrame, seed: int) -> list[Station]:
    """All 21 stations, water first, in code order."""
    rng = stream(seed, "iot", "stations")
    by_district: dict[str, list[str]] = {}
    for commune in frame.old_communes:
        if not commune.name.startswith("Phường"):  # stations stand in rural communes
            by_district.setdefault(commune.district_code, []).append(commune.code)
    out: list[Station] = []

    def place(district: str) -> tuple[str, str, float, float]:
        candidates = sorted(by_district[district])
        old = frame.old(candidates[int(rng.integers(len(candidates)))])
        lat = round(old.latitude + float(rng.uniform(-0.004, 0.004)), 6)
        lon = round(old.longitude + float(rng.uniform(-0.004, 0.004)), 6)
        return old.code, old.new_code, lat, lon

    for i, (district, coastal, upstream, legacy, alarm) in enumerate(WATER_SITES, start=1):
        code = f"WQ-{i:02d}"
        old, new, lat, lon = place(district)
        name = f"Trạm quan trắc nước {frame.old(old).name} ({frame.old(old).district_name})"
        out.append(
            Station(code, "water", name, old, new, lat, lon, coastal, upstream, legacy, alarm)
        )
    for i, district in enumerate(TRAP_DISTRICTS, start=1):
        code = f"LT-{i:02d}"
        old, new, lat, lon = place(district)
        name = f"Bẫy đèn {frame.old(old).name} ({frame.old(old).district_name})"
        out.append(
            Station(code, "insect", name, old, new, lat, lon, 0.0, 0.0, code in LEGACY_TRAPS, None)
        )
    return out
