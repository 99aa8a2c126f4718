"""Statistics office feed: monthly CSV files of digital-economy and digital-society indicators.

One file per month of the run, ``<out>/statistics/feed/chi-tieu-kinh-te-so-<yyyy-mm>.csv``, as a
provincial statistics office publishes: UTF-8 with BOM, ``;``-separated, CRLF, a header row, counts
as plain integers and the rate column ``ty_le`` in percent with a decimal comma (``87,35``).
Each row publishes numerator (``tu_so``) and denominator (``mau_so``) so the warehouse recomputes
rates. Before July 2025 the society indicators come per old district (``cap = huyen``, old
province/district codes); from July 2025 per new commune (``cap = xa``, province 82, no district).
Economy indicators are province-level only (``cap = tinh``): before July one row per old province
(87 = old Đồng Tháp, 82 = old Tiền Giang), afterwards one row for the new province 82.

Indicators (ids of kpis.md; OPS- are the province's own targets, kpis.md §3):
XH-01 smartphone subscriptions / mobile subscriptions; XH-02 households with fibre / households;
XH-03 people 15+ with a payment account / people 15+; XH-04 adults (18+) with a VNeID electronic
identity / adults; KT-01 digital-economy value added / GRDP (billion VND, quarterly, in the file of
the quarter's last month); KT-02 online retail sales / retail sales (billion VND, monthly);
OPS-SME-ECOM SMEs selling on e-commerce platforms / active SMEs; OPS-OCOP-ONLINE OCOP products
sold online / OCOP products. Ground truth is exactly what the files carry, per row, summed to the
province (82, all months), to old districts (before July) and to new communes (from July).

Yearly province figures of the province's digital-transformation report (cap = tinh, per old
province before July 2025, the new province after), carried like KT-01's quarter on the period's
last month (``ky_bao_cao`` = the year's December): DT-01 officials trained in digital skills in
the year / officials, DT-03 people with a personal digital signature / people and DT-04
digital-technology firms / people in thousands (``mau_so`` in nghìn người) in the file of
December; DT-02 the province's DTI rank (``tu_so``) among the provinces ranked (``mau_so``: 63,
34 from 2025) in the file of the next June, when the ministry has published it. Their ground
truth is the province's: the rows summed (old 87 + old 82 for 2024); for DT-02 the rank alone
(denominator 1), old Đồng Tháp's (87) for a year before the merger, whose 2021–2025 plan set
the "top 25" target (a rank cannot be summed).

Calibration (province_facts.md, kpis.md §3): fibre households 79.5% in 2023 rising toward the 85%
national target; payment accounts 55% rising toward the 80% plan for 2025; VNeID toward 80%;
smartphones ~83–90%; digital economy ~10–13% of GRDP (plan 15%); e-commerce ~7.5–10% of retail
(plan >10%); SMEs on e-commerce ~57%; OCOP products online ~96–100%; officials trained 79.2% in
early 2023 toward 100% a year; DTI rank 39/63 in 2022 toward the top 25; personal digital
signatures toward 50% (KH 315); digital-technology firms toward 0.7 per 1,000 people (KH 315).
Counts describe the real province whatever ``ctx.scale`` (the feed is a few thousand rows a year
either way).

Defects (each logged): a month published late (``late_arriving``: ``ngay_cong_bo`` 40–70 days
after the month instead of the 20th of the next month), unit names in NFD (``nfd_text``), and
counts quoted with thousands separators (``number_as_text``: ``"12.345"``). All stay readable, so
all rows count in the ground truth.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from simulator.context import SimContext
from simulator.frame import NEW_PROVINCE, REORGANISATION
from simulator.sector import Service

SOURCE = "statistics_feed"
HEADER = (
    "ky_bao_cao;cap;ma_tinh;ma_huyen;ma_xa;ten_don_vi;ma_chi_tieu;ten_chi_tieu;"
    "tu_so;mau_so;don_vi_tinh;ty_le;ngay_cong_bo"
)


@dataclass(frozen=True)
class Society:
    kpi: str
    name: str
    unit: str
    per_person: float  # denominator per resident
    base: float  # rate in January 2024
    slope: float  # rate gained per month


SOCIETY = (
    Society(
        "XH-01", "Thuê bao di động sử dụng điện thoại thông minh", "thuê bao", 1.28, 0.83, 0.003
    ),
    Society("XH-02", "Hộ gia đình có kết nối cáp quang", "hộ", 1 / 3.6, 0.80, 0.0035),
    Society("XH-03", "Người từ 15 tuổi có tài khoản thanh toán", "người", 0.77, 0.60, 0.008),
    Society("XH-04", "Người trưởng thành có định danh điện tử VNeID", "người", 0.72, 0.62, 0.009),
)


@dataclass(frozen=True)
class Economy:
    kpi: str
    name: str
    unit: str
    size: dict[str, float]  # denominator per old province and period (month or quarter), 2024-01
    growth: float  # denominator growth per month
    base: float
    slope: float
    quarterly: bool = False


ECONOMY = (
    Economy(
        "KT-01",
        "Tỷ trọng kinh tế số trong GRDP",
        "tỷ đồng",
        {"87": 30_000, "82": 35_000},
        0.005,
        0.10,
        0.0013,
        quarterly=True,
    ),
    Economy(
        "KT-02",
        "Tỷ trọng thương mại điện tử trong tổng mức bán lẻ",
        "tỷ đồng",
        {"87": 7_100, "82": 7_500},
        0.006,
        0.075,
        0.0011,
    ),
    Economy(
        "OPS-SME-ECOM",
        "Doanh nghiệp nhỏ và vừa tham gia sàn thương mại điện tử",
        "doanh nghiệp",
        {"87": 5_500, "82": 6_500},
        0.002,
        0.55,
        0.002,
    ),
    Economy(
        "OPS-OCOP-ONLINE",
        "Sản phẩm OCOP bán trực tuyến",
        "sản phẩm",
        {"87": 330, "82": 260},
        0.006,
        0.96,
        0.0015,
    ),
)


@dataclass(frozen=True)
class Yearly:
    kpi: str
    name: str
    unit: str
    base: float  # rate in 2024 (DT-04: firms per 1,000 people)
    slope: float  # rate gained per year


YEARLY = (
    Yearly("DT-01", "Cán bộ, công chức, viên chức được bồi dưỡng kỹ năng số", "người", 0.86, 0.05),
    Yearly("DT-03", "Người dân có chữ ký số cá nhân", "người", 0.22, 0.12),
    Yearly("DT-04", "Doanh nghiệp công nghệ số", "doanh nghiệp / nghìn người", 0.55, 0.08),
)
OFFICIALS = {"87": 38_000, "82": 42_000}  # cán bộ, công chức, viên chức per old province
DTI_RANK = ("DT-02", "Xếp hạng chỉ số chuyển đổi số (DTI) cấp tỉnh", "hạng")
FIRST_NEW_YEAR = REORGANISATION.year  # yearly figures of the new province from 2025


@dataclass(frozen=True)
class Unit:
    """A unit a row describes: its codes as published, name and residents."""

    level: str  # huyen | xa
    province: str
    district: str
    commune: str
    name: str
    population: int
    effect: float  # stable deviation of its rates from the province trend


def _month_starts(start: date, end: date) -> list[date]:
    out, day = [], date(start.year, start.month, 1)
    while day <= end:
        out.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def _units(ctx: SimContext, after: bool) -> list[Unit]:
    """Old districts (before the change) or new communes (after), with populations summed."""
    population: dict[str, int] = defaultdict(int)
    wards: dict[str, int] = defaultdict(int)
    members: dict[str, int] = defaultdict(int)
    names: dict[str, tuple[str, str]] = {}
    for commune, pop in zip(ctx.frame.old_communes, ctx.frame.population, strict=True):
        key = commune.new_code if after else commune.district_code
        population[key] += int(pop)
        members[key] += 1
        wards[key] += commune.name.startswith("Phường")
        names[key] = (
            (ctx.frame.new(key).name, NEW_PROVINCE)
            if after
            else (commune.district_name, commune.province_code)
        )
    rng = ctx.rng("statistics", "unit-effects", "xa" if after else "huyen")
    units = []
    for key in sorted(population):
        name, province = names[key]
        urban = wards[key] / members[key]
        effect = float(rng.normal(0.0, 0.025)) + 0.04 * (urban - 0.2)
        units.append(
            Unit(
                "xa" if after else "huyen",
                province,
                "" if after else key,
                key if after else "",
                name,
                population[key],
                effect,
            )
        )
    return units


def _rate(base: float, slope: float, t: int, effect: float) -> float:
    return float(np.clip(base + slope * t + effect, 0.02, 0.995))


def _count(value: int, quoted: bool) -> str:
    return f'"{value:,}"'.replace(",", ".") if quoted else str(value)


class StatisticsSector:
    name = "statistics"

    def generate(self, ctx: SimContext) -> dict[str, int]:
        folder = ctx.out / self.name / "feed"
        folder.mkdir(parents=True, exist_ok=True)
        units = {False: _units(ctx, after=False), True: _units(ctx, after=True)}
        written = {"files": 0, "rows": 0}
        for month in _month_starts(ctx.start, ctx.end):
            written["rows"] += self._month(ctx, folder, month, units[month >= REORGANISATION])
            written["files"] += 1
        return written

    def _month(self, ctx: SimContext, folder: Path, month: date, units: list[Unit]) -> int:
        period = f"{month:%Y-%m}"
        t = (month.year - 2024) * 12 + month.month - 1
        after = month >= REORGANISATION
        rng = ctx.rng("statistics", "feed", period)
        path = folder / f"chi-tieu-kinh-te-so-{period}.csv"
        next_month = (month + timedelta(days=32)).replace(day=1)
        published = next_month.replace(day=20)
        if rng.random() < ctx.defect_rate:
            published = next_month + timedelta(days=int(rng.integers(40, 71)))
            ctx.defects.log(
                SOURCE, path.name, "late_arriving", f"published {published:%d/%m/%Y}", published
            )
        # (kpi, name, unit, level, province, district, commune, unit name, num, den)
        rows: list[tuple[str, str, str, str, str, str, str, str, int, int]] = []
        for u in units:
            for s in SOCIETY:
                den = round(u.population * s.per_person)
                num = int(rng.binomial(den, _rate(s.base, s.slope, t, u.effect)))
                rows.append(
                    (
                        s.kpi,
                        s.name,
                        s.unit,
                        u.level,
                        u.province,
                        u.district,
                        u.commune,
                        u.name,
                        num,
                        den,
                    )
                )
        provinces = [NEW_PROVINCE] if after else sorted(ECONOMY[0].size)
        for e in ECONOMY:
            if e.quarterly and month.month % 3:
                continue
            for province in provinces:
                size = sum(e.size.values()) if after else e.size[province]
                den = round(size * (1 + e.growth) ** t)
                num = round(den * _rate(e.base, e.slope, t, float(rng.normal(0.0, 0.004))))
                name = "Tỉnh Đồng Tháp" if after or province == "87" else "Tỉnh Tiền Giang"
                rows.append((e.kpi, e.name, e.unit, "tinh", province, "", "", name, num, den))
        lines = [HEADER]
        for kpi, kpi_name, unit, level, province, district, commune, name, num, den in rows:
            key = f"{period}/{commune or district or province}/{kpi}"
            if rng.random() < ctx.defect_rate:
                name = unicodedata.normalize("NFD", name)
                ctx.defects.log(SOURCE, key, "nfd_text", "unit name in NFD", published)
            quoted = rng.random() < ctx.defect_rate
            if quoted:
                ctx.defects.log(
                    SOURCE, key, "number_as_text", "counts quoted with '.' thousands", published
                )
            rate = f"{100 * num / den:.2f}".replace(".", ",") if den else ""
            fields = [period, level, province, district, commune, name, kpi, kpi_name]
            fields += [_count(num, quoted), _count(den, quoted), unit, rate]
            lines.append(";".join([*fields, f"{published:%d/%m/%Y}"]))
            self._truth(ctx, period, kpi, level, district, commune, num, den)
        yearly = self._yearly(ctx, month)
        for kpi, kpi_name, unit, period_of, province, num, den, rate in yearly:
            merged = int(period_of[:4]) >= FIRST_NEW_YEAR
            name = "Tỉnh Tiền Giang" if province == "82" and not merged else "Tỉnh Đồng Tháp"
            fields = [period_of, "tinh", province, "", "", name, kpi, kpi_name]
            fields += [str(num), str(den), unit, rate, f"{published:%d/%m/%Y}"]
            lines.append(";".join(fields))
            if kpi != DTI_RANK[0]:
                ctx.truth.add(kpi, period_of, "province", NEW_PROVINCE, "2025", num, den)
            elif merged or province == "87":
                ctx.truth.add(kpi, period_of, "province", NEW_PROVINCE, "2025", num, 1)
        path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
        return len(rows) + len(yearly)

    @staticmethod
    def _yearly(
        ctx: SimContext, month: date
    ) -> list[tuple[str, str, str, str, str, int, int, str]]:
        """The yearly rows a month's file carries: (kpi, name, unit, ky_bao_cao, province,
        tu_so, mau_so, ty_le). December's: DT-01, DT-03, DT-04 of its year; June's: the DTI
        rank (DT-02) of the year before, when that year's December is in the run."""
        if month.month == 12:
            year = month.year
        elif month.month == 6 and date(month.year - 1, 12, 1) >= ctx.start.replace(day=1):
            year = month.year - 1
        else:
            return []
        # Their own random stream: the monthly rows stay what they were without them.
        rng = ctx.rng("statistics", "yearly", f"{year}-{month.month}")
        population: dict[str, int] = defaultdict(int)
        for commune, pop in zip(ctx.frame.old_communes, ctx.frame.population, strict=True):
            population[commune.province_code] += int(pop)
        merged = year >= FIRST_NEW_YEAR
        provinces = [NEW_PROVINCE] if merged else sorted(OFFICIALS)

        def size(table: dict[str, int], province: str) -> int:
            return sum(table.values()) if merged else table[province]

        period, t = f"{year}-12", year - 2024
        out = []
        for province in provinces:
            if month.month == 6:
                ranked = 34 if merged else 63
                rank = int(rng.integers(10, 20) if merged else rng.integers(24, 40))
                out.append((*DTI_RANK, period, province, rank, ranked, ""))
                continue
            for y in YEARLY:
                rate = _rate(y.base, y.slope, t, float(rng.normal(0.0, 0.01)))
                if y.kpi == "DT-01":
                    den = size(OFFICIALS, province)
                    num = int(rng.binomial(den, rate))
                elif y.kpi == "DT-03":
                    den = size(population, province)
                    num = int(rng.binomial(den, rate))
                else:  # firms per 1,000 people, over the population in thousands
                    den = round(size(population, province) / 1000)
                    num = round(den * rate)
                shown = f"{100 * num / den:.2f}".replace(".", ",") if y.kpi != "DT-04" else ""
                out.append((y.kpi, y.name, y.unit, period, province, num, den, shown))
        return out

    @staticmethod
    def _truth(
        ctx: SimContext,
        period: str,
        kpi: str,
        level: str,
        district: str,
        commune: str,
        num: int,
        den: int,
    ) -> None:
        ctx.truth.add(kpi, period, "province", NEW_PROVINCE, "2025", num, den)
        if level == "huyen":
            ctx.truth.add(kpi, period, "district", district, "legacy", num, den)
        elif level == "xa":
            ctx.truth.add(kpi, period, "commune", commune, "2025", num, den)

    def services(self, sim_dir: Path, port_base: int) -> list[Service]:
        return []  # the feed is files the connector picks up; no server to run


SECTOR = StatisticsSector()
