"""The province's 165 examination and treatment facilities (cơ sở khám chữa bệnh).

A realistic mix for old Đồng Tháp (87) and old Tiền Giang (82): provincial and regional hospitals,
one health centre per district-level unit, commune health stations and private clinics. Each has
a five-digit MACSKCB code with its old province prefix (as real codes have), a home old commune,
a daily volume of episodes at full scale, the catchment its patients come from, the day it moved
to the 3176 XML variant, the day it started taking cashless payment, whether it runs
telemedicine and whether it kept sending old residence codes after 1 July 2025.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from simulator.frame import REORGANISATION, AdminFrame
from simulator.rng import stream

HOSPITAL = "hospital"
DISTRICT_CENTRE = "district_centre"
STATION = "commune_station"
PRIVATE = "private_clinic"

# Episodes per weekday at full scale: the four types sum to ≈16,400/day, ≈6 million a year
# (weekends are quieter, see xml130.WEEKDAY_FACTOR).
DAILY_VOLUME = {HOSPITAL: 720.0, DISTRICT_CENTRE: 250.0, STATION: 24.0, PRIVATE: 36.0}

# (district code, name) of the provincial and regional hospitals: real ones, simplified names.
HOSPITALS = [
    ("866", "Bệnh viện Đa khoa Đồng Tháp"),
    ("866", "Bệnh viện Y dược cổ truyền Đồng Tháp"),
    ("867", "Bệnh viện Đa khoa Sa Đéc"),
    ("868", "Bệnh viện Đa khoa khu vực Hồng Ngự"),
    ("872", "Bệnh viện Đa khoa khu vực Tháp Mười"),
    ("815", "Bệnh viện Đa khoa Trung tâm Tiền Giang"),
    ("815", "Bệnh viện Phụ sản Tiền Giang"),
    ("815", "Bệnh viện Y dược cổ truyền Tiền Giang"),
    ("817", "Bệnh viện Đa khoa khu vực Cai Lậy"),
    ("816", "Bệnh viện Đa khoa khu vực Gò Công"),
]
N_FACILITIES = 165
N_PRIVATE = 25
N_TELEMEDICINE = 22
OUTDATED_SHARE = 0.10  # facilities whose software kept old residence codes after the change


@dataclass(frozen=True)
class Facility:
    code: str  # MACSKCB
    name: str
    kind: str
    old_commune: str  # where it stands (old commune code)
    district_code: str
    daily_volume: float  # episodes per weekday at full scale
    catchment: tuple[str, ...]  # old commune codes its patients come from
    upgrade_3176: date  # first day it exports the 3176 variant
    cashless_since: date
    telemedicine: bool
    old_codes_until: date | None  # sends old residence codes until this day (exclusive)


def build_facilities(frame: AdminFrame, seed: int) -> list[Facility]:
    """The 165 facilities, the same for a seed whatever the date range or scale."""
    rng = stream(seed, "health", "facilities")
    communes = frame.old_communes
    population = frame.population
    by_district: dict[str, list[int]] = {}
    for i, c in enumerate(communes):
        by_district.setdefault(c.district_code, []).append(i)
    district_name = {c.district_code: c.district_name for c in communes}
    province_of = {c.district_code: c.province_code for c in communes}

    def biggest(district: str) -> int:
        return max(by_district[district], key=lambda i: (population[i], -i))

    everyone = tuple(c.code for c in communes)
    draft: list[tuple[str, str, int, tuple[str, ...]]] = []  # kind, name, commune idx, catchment
    for district, name in HOSPITALS:
        draft.append((HOSPITAL, name, biggest(district), everyone))
    for district in sorted(by_district):
        label = district_name[district].replace("Thành phố", "thành phố").replace("Huyện", "huyện")
        label = label.replace("Thị xã", "thị xã")
        catchment = tuple(communes[i].code for i in by_district[district])
        draft.append((DISTRICT_CENTRE, f"Trung tâm Y tế {label}", biggest(district), catchment))
    n_stations = N_FACILITIES - len(draft) - N_PRIVATE
    weights = population / population.sum()
    station_idx = sorted(rng.choice(len(communes), n_stations, replace=False, p=weights).tolist())
    for i in station_idx:
        draft.append((STATION, f"Trạm Y tế {communes[i].name}", i, (communes[i].code,)))
    private_idx = rng.choice(len(communes), N_PRIVATE, replace=True, p=weights).tolist()
    for n, i in enumerate(private_idx, 1):
        district = communes[i].district_code
        catchment = tuple(communes[j].code for j in by_district[district])
        draft.append((PRIVATE, f"Phòng khám đa khoa tư nhân số {n}", i, catchment))

    telemedicine = {i for i, d in enumerate(draft) if d[0] == HOSPITAL}
    centres = [i for i, d in enumerate(draft) if d[0] == DISTRICT_CENTRE]
    extra = rng.choice(centres, N_TELEMEDICINE - len(telemedicine), replace=False)
    telemedicine |= {int(i) for i in extra}
    outdated = set(
        rng.choice(len(draft), round(OUTDATED_SHARE * len(draft)), replace=False).tolist()
    )
    span_2y = (date(2025, 12, 31) - date(2024, 1, 1)).days
    serial = {"87": 0, "82": 0}
    facilities = []
    for i, (kind, name, commune_idx, catchment) in enumerate(draft):
        commune = communes[commune_idx]
        province = province_of[commune.district_code]
        serial[province] += 1
        # Most facilities took cashless payment before 2024; the last ones joined in 2024.
        cashless = date(2021, 1, 1) + timedelta(days=int(rng.integers(0, 3 * 365)))
        if rng.random() < 0.15:
            cashless = date(2024, 1, 1) + timedelta(days=int(rng.integers(0, 300)))
        lag_days = int(rng.integers(30, 180))
        facilities.append(
            Facility(
                code=f"{province}{serial[province]:03d}",
                name=name,
                kind=kind,
                old_commune=commune.code,
                district_code=commune.district_code,
                daily_volume=DAILY_VOLUME[kind] * float(rng.uniform(0.7, 1.3)),
                catchment=catchment,
                upgrade_3176=date(2024, 1, 1) + timedelta(days=int(rng.integers(0, span_2y))),
                cashless_since=cashless,
                telemedicine=i in telemedicine,
                old_codes_until=(
                    REORGANISATION + timedelta(days=lag_days) if i in outdated else None
                ),
            )
        )
    return sorted(facilities, key=lambda f: f.code)


def catchment_weights(frame: AdminFrame, facility: Facility) -> tuple[np.ndarray, np.ndarray]:
    """(old commune indices, probabilities) of a patient's residence for this facility."""
    index = {c.code: i for i, c in enumerate(frame.old_communes)}
    idx = np.array([index[c] for c in facility.catchment], dtype=np.int64)
    weights = frame.population[idx].astype(np.float64)
    if facility.kind == STATION:
        return idx, np.ones(1)
    return idx, weights / weights.sum()
