"""The invented residents that health systems see: one pool shared by XML 130 and the registry.

The pool has ``round(population × scale)`` people per old commune (at least one), so the same
person can come back to a facility, appear in several facilities and have an EHR. Attributes are
numpy arrays (a few bytes a person: 3.4 million people at scale 1 fit easily); personal fields
(name, citizen id, insurance card) are rendered on demand from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from simulator.context import SimContext

FAMILY = ["Nguyễn", "Trần", "Lê", "Huỳnh", "Phạm", "Võ", "Phan", "Trương", "Bùi", "Đặng", "Đỗ",
          "Ngô", "Hồ", "Dương", "Lý", "Châu", "Lâm", "Đoàn"]  # fmt: skip
FAMILY_WEIGHTS = [36, 11, 10, 7, 7, 6, 4.5, 2.5, 2, 2, 1.5, 1.5, 2, 1.5, 1.5, 1.5, 1.5, 1]
MIDDLE = {1: ["Văn", "Minh", "Hữu", "Thanh", "Quốc", "Hoàng", "Công", "Tấn"],
          2: ["Thị", "Ngọc", "Thanh", "Thu", "Kim", "Mỹ", "Bích", "Thị"]}  # fmt: skip
GIVEN = {
    1: ["Hùng", "Dũng", "Tuấn", "Hải", "Long", "Phúc", "Tài", "Lộc", "Hiếu", "Khang", "Nam",
        "Sơn", "Thành", "Trung", "Vinh", "Bảo", "Duy", "Khoa", "Nhân", "Tín", "Tâm", "Phong"],
    2: ["Lan", "Hoa", "Hương", "Mai", "Linh", "Trang", "Thảo", "Ngân", "Nhung", "Yến", "Hằng",
        "Diễm", "Trinh", "Vy", "Như", "Thủy", "Hạnh", "Loan", "Phượng", "Tuyết", "Thu", "Anh"],
}  # fmt: skip
# Health-insurance card kinds (first two letters of MA_THE_BHYT) and their benefit level digit.
CARD_KINDS = ["GD", "DN", "HS", "HT", "HN", "CN", "TE", "BT"]
CARD_WEIGHTS = [0.40, 0.22, 0.10, 0.07, 0.06, 0.06, 0.0, 0.09]  # TE is given by age (< 6)
CARD_LEVEL = {"GD": 4, "DN": 4, "HS": 4, "HT": 3, "HN": 1, "CN": 2, "TE": 1, "BT": 2}
MUC_HUONG = {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}
INSURED_SHARE = 0.93  # universal health-insurance coverage in the Mekong delta, order of 2024
REFERENCE = date(2025, 1, 1)
# Every full name, indexed by ``name_code`` (sex, family, middle, given): looking one up is cheaper
# than building it, for a registry of millions.
_M, _G = len(MIDDLE[1]), len(GIVEN[1])
assert len(MIDDLE[2]) == _M and len(GIVEN[2]) == _G
NAME_TABLE = [
    f"{family} {MIDDLE[sex][m]} {GIVEN[sex][g]}"
    for sex in (1, 2)
    for family in FAMILY
    for m in range(_M)
    for g in range(_G)
]
EPOCH = 719_163  # date(1970, 1, 1).toordinal(), for numpy datetime64 conversions


def iso_dates(ordinals: np.ndarray) -> list[str]:
    """yyyy-mm-dd of each date ordinal, converted as a whole array."""
    days = (np.asarray(ordinals, dtype=np.int64) - EPOCH).astype("datetime64[D]")
    return days.astype(str).tolist()


# Share of residents per 10-year age band (0-9 … 80-89), Mekong-delta shaped pyramid.
AGE_BANDS = [0.14, 0.14, 0.15, 0.16, 0.14, 0.12, 0.09, 0.04, 0.02]


@dataclass
class PersonPool:
    """Residents of the demo province at this scale; index = person id."""

    commune: np.ndarray  # index into frame.old_communes
    offsets: np.ndarray  # first person of each old commune
    sizes: np.ndarray  # people per old commune
    province: list[str]  # old province code per old commune
    sex: np.ndarray  # 1 male, 2 female
    birth: np.ndarray  # date ordinal
    family: np.ndarray
    middle: np.ndarray
    given: np.ndarray
    serial: np.ndarray  # last six digits of the citizen id, unique per old province and sex
    card: np.ndarray  # index into CARD_KINDS, -1 = uninsured
    name_code: np.ndarray  # index into NAME_TABLE
    citizen: np.ndarray  # the citizen id (SO_CCCD) as a number: "0" + 11 digits

    def __len__(self) -> int:
        return len(self.sex)

    def name(self, i: int) -> str:
        return NAME_TABLE[self.name_code[i]]

    def names(self, idx: np.ndarray) -> list[str]:
        return [NAME_TABLE[c] for c in self.name_code[idx].tolist()]

    def cccds(self, idx: np.ndarray) -> list[str]:
        return [f"0{v:011d}" for v in self.citizen[idx].tolist()]

    def birth_date(self, i: int) -> date:
        return date.fromordinal(int(self.birth[i]))

    def cccd(self, i: int) -> str:
        return f"0{int(self.citizen[i]):011d}"

    def insurance_card(self, i: int) -> str | None:
        if self.card[i] < 0:
            return None
        kind = CARD_KINDS[int(self.card[i])]
        province = self.province[int(self.commune[i])]
        return f"{kind}{CARD_LEVEL[kind]}{province}{self.cccd(i)[2:]}"

    def benefit(self, i: int) -> int:
        """MUC_HUONG, the share of covered costs the fund pays (0 when uninsured)."""
        if self.card[i] < 0:
            return 0
        return MUC_HUONG[CARD_LEVEL[CARD_KINDS[int(self.card[i])]]]


def build_pool(ctx: SimContext) -> PersonPool:
    frame = ctx.frame
    rng = ctx.rng("health", "persons")
    sizes = np.maximum(1, np.round(frame.population * ctx.scale)).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n = int(sizes.sum())
    commune = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    sex = rng.integers(1, 3, n).astype(np.int8)
    band = rng.choice(len(AGE_BANDS), n, p=np.array(AGE_BANDS) / sum(AGE_BANDS))
    age_days = (band * 10 + rng.random(n) * 10) * 365.25
    birth = (REFERENCE.toordinal() - age_days).astype(np.int32)
    family = rng.choice(len(FAMILY), n, p=np.array(FAMILY_WEIGHTS) / sum(FAMILY_WEIGHTS))
    middle = rng.integers(0, 8, n).astype(np.int8)
    given = rng.integers(0, 22, n).astype(np.int8)
    province = [c.province_code for c in frame.old_communes]
    # Serial: rank within (old province, sex) through a bijection of 0..999,999 → unique ids.
    group = np.array([int(p) for p in province], dtype=np.int32)[commune] * 10 + sex
    order = np.argsort(group, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, sorted_group, side="left")
    rank[order] = np.arange(n) - starts
    serial = (rank * 7919 + 104_729) % 1_000_000
    card = rng.choice(len(CARD_KINDS), n, p=np.array(CARD_WEIGHTS) / sum(CARD_WEIGHTS))
    card[birth > REFERENCE.toordinal() - 6 * 365] = CARD_KINDS.index("TE")
    card[rng.random(n) >= INSURED_SHARE] = -1
    # Citizen id: province, century and sex, two-digit birth year, serial.
    year = (birth - EPOCH).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    century_sex = np.where(year < 2000, 0, 2) + sex.astype(np.int64) - 1
    province_no = np.array([int(p) for p in province], dtype=np.int64)[commune]
    citizen = province_no * 10**9 + century_sex * 10**8 + (year % 100) * 10**6 + serial
    name_code = (((sex.astype(np.int64) - 1) * len(FAMILY) + family) * _M + middle % _M) * _G
    name_code += given % _G
    return PersonPool(
        commune=commune,
        offsets=offsets,
        sizes=sizes,
        province=province,
        sex=sex,
        birth=birth,
        family=family.astype(np.int8),
        middle=middle,
        given=given,
        serial=serial,
        card=card.astype(np.int8),
        name_code=name_code.astype(np.int16),
        citizen=citizen,
    )
