"""Invented applicants and officials: Vietnamese names, citizen ids, tax codes, phone numbers.

Nobody here is real: names are drawn from common family, middle and given names, ids from the
documented layouts (12-digit CCCD: birth-province code, century/sex digit, birth year, 6 random
digits; 10-digit tax code; 10-digit mobile number).
"""

from __future__ import annotations

from simulator.public_services.draws import Draws

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Đặng", "Bùi", "Đỗ"]
MIDDLE_M = ["Văn", "Minh", "Hữu", "Thành", "Quốc", "Công"]
MIDDLE_F = ["Thị", "Ngọc", "Thanh", "Kim", "Mỹ", "Thu"]
GIVEN_M = ["Hùng", "Dũng", "Tâm", "Phúc", "Hải", "Long", "Tuấn", "Khang", "Lộc", "Nghĩa"]
GIVEN_F = ["Lan", "Hương", "Mai", "Trang", "Thảo", "Nhung", "Hạnh", "Yến", "Ngân", "Diễm"]
COMPANY = ["Nông sản", "Thủy sản", "Xây dựng", "Thương mại", "Dịch vụ", "Vận tải", "Gạo"]
TITLES = ["Công chức một cửa", "Chuyên viên", "Trưởng phòng", "Phó Chủ tịch", "Văn thư"]


def person(rng: Draws, birth_province: str) -> tuple[str, str, str]:
    """(full name, 12-digit citizen id, phone) of an invented adult; ``birth_province`` is the
    3-digit province part of the id (e.g. "087")."""
    female = bool(rng.random() < 0.5)
    middle = MIDDLE_F if female else MIDDLE_M
    given = GIVEN_F if female else GIVEN_M
    name = (
        f"{FAMILY[int(rng.integers(len(FAMILY)))]} {middle[int(rng.integers(len(middle)))]} "
        f"{given[int(rng.integers(len(given)))]}"
    )
    year = int(rng.integers(1950, 2006))
    century_sex = (0 if year < 2000 else 2) + int(female)
    cccd = f"{birth_province}{century_sex}{year % 100:02d}{int(rng.integers(0, 1_000_000)):06d}"
    return name, cccd, phone(rng)


def company(rng: Draws) -> tuple[str, str, str]:
    """(company name, 10-digit tax code, phone) of an invented business."""
    kind = COMPANY[int(rng.integers(len(COMPANY)))]
    family = FAMILY[int(rng.integers(len(FAMILY)))]
    name = f"Công ty TNHH {kind} {family} {int(rng.integers(1, 99))}"
    return name, f"14{int(rng.integers(0, 100_000_000)):08d}", phone(rng)


def phone(rng: Draws) -> str:
    prefix = ["090", "091", "093", "097", "098", "088", "070", "077"][int(rng.integers(8))]
    return f"{prefix}{int(rng.integers(0, 10_000_000)):07d}"


def official(rng: Draws) -> tuple[str, str]:
    name, _, _ = person(rng, "087")
    return name, TITLES[int(rng.integers(len(TITLES)))]
