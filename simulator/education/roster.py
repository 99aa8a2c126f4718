"""The province's schools and what each one reports per term (enrolment, staff, digital use).

The roster does not depend on the date range: every school gets its level, ownership, old commune
and fixed traits (size, adoption thresholds) from the run's seed alone, so a school reports the
same identity whichever terms are generated. Term figures come from streams named by school year
and school, so HK2 is derived from HK1 of the same year even when HK1 lies outside the range.

Calibration (no per-province school census is published in our sources): Vietnam's MOET counts
for 2022–23 are about 15,300 preschools, 14,900 primary, 10,800 lower-secondary and 2,450
upper-secondary schools for 99.5 million people; the Mekong delta has merged many small schools,
so the full-scale roster takes about 0.85× the national per-capita counts for 3.36 million people,
plus one continuing-education centre per old district and ~36 vocational schools: 1,320 schools.
Adoption follows province_facts.md: over 80% of schools in a digital environment (early 2023),
and the 50% cashless-tuition target for 2025 (100% for vocational/college level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from simulator.context import SimContext
from simulator.frame import REORGANISATION


@dataclass(frozen=True)
class Level:
    code: str
    label: str  # as Vietnamese exports write it
    schools: int  # at full scale
    private_share: float
    pupils_per_school: float
    class_size: int
    teachers_per_class: float
    female_teachers: float
    grades: tuple[str, ...]


LEVELS = (
    Level(
        "MN",
        "Mầm non",
        440,
        0.12,
        230,
        28,
        2.0,
        0.98,
        ("Nhà trẻ", "Mẫu giáo 3-4 tuổi", "Mẫu giáo 4-5 tuổi", "Mẫu giáo 5-6 tuổi"),
    ),
    Level("TH", "Tiểu học", 430, 0.01, 480, 32, 1.45, 0.78, tuple(f"Lớp {g}" for g in range(1, 6))),
    Level(
        "THCS",
        "Trung học cơ sở",
        310,
        0.01,
        560,
        38,
        1.9,
        0.70,
        tuple(f"Lớp {g}" for g in range(6, 10)),
    ),
    Level(
        "THPT",
        "Trung học phổ thông",
        80,
        0.06,
        1050,
        40,
        2.25,
        0.62,
        tuple(f"Lớp {g}" for g in range(10, 13)),
    ),
    Level(
        "GDTX",
        "Giáo dục thường xuyên",
        24,
        0.0,
        280,
        40,
        1.5,
        0.55,
        tuple(f"Lớp {g}" for g in range(10, 13)),
    ),
    Level(
        "GDNN", "Giáo dục nghề nghiệp", 36, 0.35, 600, 35, 1.2, 0.45, ("Năm 1", "Năm 2", "Năm 3")
    ),
)
LEVEL_BY_CODE = {level.code: level for level in LEVELS}
# After the reorganisation the provincial Department of Education manages these levels directly;
# communes manage preschool, primary and lower secondary (Decree 142/2025 split of duties).
DEPARTMENT_LEVELS = frozenset({"THPT", "GDTX", "GDNN"})

# How schools of each level are named (continuing education runs in district-level centres).
NAME_PREFIX = {
    "MN": "Trường Mầm non",
    "TH": "Trường Tiểu học",
    "THCS": "Trường THCS",
    "THPT": "Trường THPT",
    "GDTX": "Trung tâm GDNN-GDTX",
    "GDNN": "Trường Trung cấp",
}
MANAGEMENT_SYSTEMS = ("SMAS (Viettel)", "vnEdu (VNPT)", "MISA EMIS", "QLTH (CSDL ngành)")
LEARNING_PLATFORMS = ("K12Online", "vnEdu LMS", "Microsoft Teams", "OLM.vn")


@dataclass(frozen=True)
class School:
    code: str
    name: str
    level: str
    public: bool
    old_commune: str
    size: float  # multiplies the level's mean pupils
    u_digital: float  # uses digital management once the term's adoption rate passes this
    u_cashless: float
    u_outdated: float  # keeps sending old admin codes after the change when below the rate
    system: str
    platform: str


@dataclass(frozen=True)
class Term:
    school_year: str  # "2024-2025"
    code: str  # HK1 | HK2
    index: int  # terms since HK1 2023-2024, drives adoption trends
    months: tuple[str, ...]  # yyyy-mm the term covers
    export_date: date  # the start-of-term statistical report

    @property
    def before_change(self) -> bool:
        return self.export_date < REORGANISATION


def terms_in(start: date, end: date) -> list[Term]:
    """Terms whose export date falls in ``start``..``end`` (HK1 Sept–Jan, HK2 Feb–May)."""
    out = []
    for year in range(start.year - 1, end.year + 1):
        sy = f"{year}-{year + 1}"
        hk1_months = (*(f"{year}-{m:02d}" for m in range(9, 13)), f"{year + 1}-01")
        hk2_months = tuple(f"{year + 1}-{m:02d}" for m in range(2, 6))
        for code, months, export, offset in (
            ("HK1", hk1_months, date(year, 9, 30), 0),
            ("HK2", hk2_months, date(year + 1, 2, 28), 1),
        ):
            if start <= export <= end:
                out.append(Term(sy, code, (year - 2023) * 2 + offset, months, export))
    return out


def digital_rate(term: Term) -> float:
    return min(0.97, 0.80 + 0.025 * term.index)


def cashless_rate(term: Term, level: str) -> float:
    if level == "GDNN":  # the plan's 100% target for vocational and college level
        return 1.0
    return min(0.95, 0.40 + 0.06 * term.index)


def roster(ctx: SimContext) -> list[School]:
    """Every school of the province at ``ctx.scale``, sorted by code."""
    rng = ctx.rng("education", "roster")
    communes = ctx.frame.old_communes
    weights = ctx.frame.population / ctx.frame.population.sum()
    schools: list[School] = []
    for digit, level in enumerate(LEVELS, start=1):
        count = ctx.scaled(level.schools)
        picks = rng.choice(len(communes), size=count, p=weights)
        seen: dict[str, int] = {}
        for i, idx in enumerate(sorted(int(p) for p in picks)):
            commune = communes[idx]
            public = bool(rng.random() >= level.private_share)
            place = commune.name.split(" ", 1)[1] if " " in commune.name else commune.name
            seen[place] = seen.get(place, 0) + 1
            suffix = f" số {seen[place]}" if seen[place] > 1 else ""
            kind = "" if public else " tư thục"
            prefix = NAME_PREFIX[level.code]
            schools.append(
                School(
                    code=f"{commune.province_code}{digit}{i + 1:04d}",
                    name=f"{prefix}{kind} {place}{suffix}",
                    level=level.code,
                    public=public,
                    old_commune=commune.code,
                    size=float(rng.lognormal(0.0, 0.3)),
                    u_digital=float(rng.random()),
                    u_cashless=float(rng.random()),
                    u_outdated=float(rng.random()),
                    system=MANAGEMENT_SYSTEMS[int(rng.integers(len(MANAGEMENT_SYSTEMS)))],
                    platform=LEARNING_PLATFORMS[int(rng.integers(len(LEARNING_PLATFORMS)))],
                )
            )
    return sorted(schools, key=lambda s: s.code)


@dataclass(frozen=True)
class GradeRow:
    grade: str
    boys: int
    girls: int
    classes: int


@dataclass(frozen=True)
class Report:
    """What one school reports for one term."""

    school: School
    grades: tuple[GradeRow, ...]
    teachers: int
    female_teachers: int
    qualified_teachers: int
    digital: bool
    cashless: bool

    @property
    def pupils(self) -> int:
        return sum(g.boys + g.girls for g in self.grades)


def report(ctx: SimContext, school: School, term: Term) -> Report:
    level = LEVEL_BY_CODE[school.level]
    first = ctx.rng("education", "enrolment", term.school_year, school.code)
    per_grade = level.pupils_per_school * school.size / len(level.grades)
    counts = [int(n) for n in first.poisson(per_grade, len(level.grades))]
    if term.code == "HK2":  # a few pupils leave between terms
        second = ctx.rng("education", "enrolment", term.school_year, school.code, "HK2")
        counts = [int(second.binomial(n, 0.994)) for n in counts]
    staff = ctx.rng("education", "staff", term.school_year, term.code, school.code)
    grades = []
    for grade, n in zip(level.grades, counts, strict=True):
        boys = int(staff.binomial(n, 0.515))
        grades.append(GradeRow(grade, boys, n - boys, max(1, math.ceil(n / level.class_size))))
    classes = sum(g.classes for g in grades)
    teachers = max(1, round(classes * level.teachers_per_class))
    return Report(
        school=school,
        grades=tuple(grades),
        teachers=teachers,
        female_teachers=int(staff.binomial(teachers, level.female_teachers)),
        qualified_teachers=int(staff.binomial(teachers, 0.9)),
        digital=school.u_digital < digital_rate(term),
        cashless=school.u_cashless < cashless_rate(term, school.level),
    )
