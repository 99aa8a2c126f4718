"""Agriculture generation: the 28 systems of ``systems.yaml``, delivery by delivery.

Each system delivers on its rhythm (daily; weekly on Mondays; monthly on the 20th, when the
province's monthly reports close); every delivery writes 1+ rows per table (rows at scale 1 ×
``ctx.scale``) on old communes, with the admin codes an up-to-date system sends that day.

Defects (share ``ctx.defect_rate`` unless said): a missed delivery (``source_unavailable``,
2×), a negative quantity (``negative_amount``), a row sent twice (``duplicate_record``), a
commune name in decomposed Unicode (``nfd_text``), old admin codes kept after 1 July 2025 by the
systems marked ``legacy_codes`` (``outdated_admin_code``, every such row), and report workbooks
with a note pushing the header down (``excel_header_shift``, 3×).

Ground truth, counted from the rows written:
- OPS-AGRI-SYSTEMS-OPERATING (province, month): systems with ≥ 1 row dated in the month / 28;
- OPS-AGRI-PLANTED-AREA-HA (commune / district / province, month): hectares sown in the month
  from TT01 ``crop_area`` (``planted_ha``), denominator 1 per unit-month; a duplicated row counts
  once (same record_id) and a row with a negative area is excluded (the warehouse quarantines it).
"""

from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from simulator.agriculture.sinks import (
    ApiSink,
    DropSink,
    Row,
    Sink,
    SqlSink,
    XlsxSink,
)
from simulator.agriculture.tables import TABLES
from simulator.context import SimContext
from simulator.frame import REORGANISATION

SYSTEMS_FILE = Path(__file__).with_name("systems.yaml")
PLANTED_SYSTEM = "TT01"
MONTHLY_DAY = 20


@dataclass(frozen=True)
class System:
    code: str
    name_vi: str
    name_en: str
    deployed_by: str
    owner: str
    kind: str
    refresh: str
    domain: str
    legacy_codes: bool
    tables: tuple[str, ...]


def load_systems() -> list[System]:
    data = yaml.safe_load(SYSTEMS_FILE.read_text(encoding="utf-8"))
    systems = [
        System(
            code=s["code"],
            name_vi=s["name_vi"],
            name_en=s["name_en"],
            deployed_by=s["deployed_by"],
            owner=s["owner"],
            kind=s["kind"],
            refresh=s["refresh"],
            domain=s["domain"],
            legacy_codes=bool(s["legacy_codes"]),
            tables=tuple(s["tables"]),
        )
        for s in data["systems"]
    ]
    unknown = sorted({t for s in systems for t in s.tables} - set(TABLES))
    if unknown:
        raise ValueError(f"{SYSTEMS_FILE.name} names tables with no generator: {unknown}")
    return systems


def delivers(refresh: str, day: date) -> bool:
    if refresh == "daily":
        return True
    if refresh == "weekly":
        return day.weekday() == 0
    if refresh == "monthly":
        return day.day == MONTHLY_DAY
    raise ValueError(f"unknown refresh rhythm {refresh!r}")


def _sink(ctx: SimContext, system: System, out: Path) -> Sink:
    tables = list(system.tables)
    if system.kind in ("postgres", "mariadb", "sqlite"):
        url = {"postgres": ctx.pg_url, "mariadb": ctx.mysql_url}.get(system.kind)
        return SqlSink(system.code, tables, out, system.kind, url, ctx.db_prefix)
    if system.kind == "xlsx":
        rng = ctx.rng("agriculture", system.code, "header-shift")
        return XlsxSink(system.code, tables, out, rng, min(1.0, 3 * ctx.defect_rate))
    if system.kind == "api":
        return ApiSink(system.code, tables, out)
    if system.kind in ("drop_csv", "drop_json"):
        return DropSink(system.code, tables, out, system.kind.removeprefix("drop_"))
    raise ValueError(f"system {system.code}: unknown kind {system.kind!r}")


class _Truth:
    def __init__(self) -> None:
        self.operating: dict[str, set[str]] = defaultdict(set)  # month → system codes
        self.planted: dict[tuple[str, str], int] = defaultdict(int)  # (month, old commune) → ha

    def flush(self, ctx: SimContext, n_systems: int) -> None:
        months = sorted({d.strftime("%Y-%m") for d in ctx.days()})
        for month in months:
            ctx.truth.add(
                "OPS-AGRI-SYSTEMS-OPERATING",
                month,
                "province",
                "82",
                "2025",
                len(self.operating[month]),
                n_systems,
            )
        levels: dict[tuple[str, str, str, str], int] = defaultdict(int)
        for (month, old_code), hectares in sorted(self.planted.items()):
            commune = ctx.frame.old(old_code)
            levels[(month, "commune", commune.new_code, "2025")] += hectares
            if month < REORGANISATION.strftime("%Y-%m"):
                levels[(month, "district", commune.district_code, "legacy")] += hectares
            levels[(month, "province", "82", "2025")] += hectares
        for (month, level, code, structure), hectares in sorted(levels.items()):
            ctx.truth.add("OPS-AGRI-PLANTED-AREA-HA", month, level, code, structure, hectares, 1)


def _rows(ctx: SimContext, system: System, table: str, day: date, truth: _Truth) -> list[Row]:
    """The rows of one delivery of one table, defects applied (TT01 areas noted in truth)."""
    rng = ctx.rng("agriculture", system.code, table, day)
    spec = TABLES[table]
    amount_at = next((i for i, c in enumerate(spec.columns) if c.amount), None)
    communes = ctx.frame.old_communes
    out: list[Row] = []
    for i in range(ctx.scaled(spec.rows)):
        record_id = f"{system.code}-{table}-{day:%Y%m%d}-{i:05d}"
        key = f"{system.code}/{table}/{record_id}"
        old = communes[int(rng.integers(len(communes)))]
        province, district, commune = ctx.frame.codes_on(old.code, day)
        if system.legacy_codes and day >= REORGANISATION:
            province, district, commune = old.province_code, old.district_code, old.code
            ctx.defects.log(
                "agriculture", key, "outdated_admin_code", f"old commune {old.code}", day
            )
        name = old.name
        values = [c.draw(rng) for c in spec.columns]
        draw = rng.random(3)
        if amount_at is not None and draw[1] < ctx.defect_rate / 2:
            amount = values[amount_at]
            assert isinstance(amount, int | float)
            values[amount_at] = -abs(amount)
            ctx.defects.log(
                "agriculture", key, "negative_amount", f"{spec.columns[amount_at].name} < 0", day
            )
        if draw[0] < ctx.defect_rate / 2:
            name = unicodedata.normalize("NFD", name)
            ctx.defects.log("agriculture", key, "nfd_text", "commune_name in NFD", day)
        row = (record_id, day, province, district or "", commune, name, *values)
        out.append(row)
        if draw[2] < ctx.defect_rate / 2:
            out.append(row)
            ctx.defects.log("agriculture", key, "duplicate_record", "row sent twice", day)
        if system.code == PLANTED_SYSTEM and table == "crop_area":
            planted = values[[c.name for c in spec.columns].index("planted_ha")]
            assert isinstance(planted, int)
            if planted >= 0:
                truth.planted[(day.strftime("%Y-%m"), old.code)] += planted
    return out


def generate(ctx: SimContext) -> dict[str, int]:
    out = ctx.out / "agriculture"
    out.mkdir(parents=True, exist_ok=True)
    systems = load_systems()
    truth = _Truth()
    counts: dict[str, int] = {"systems": len(systems)}
    registry = []
    for system in systems:
        sink = _sink(ctx, system, out)
        shifts_logged = 0
        for day in ctx.days():
            if not delivers(system.refresh, day):
                continue
            if ctx.rng("agriculture", system.code, "outage", day).random() < 2 * ctx.defect_rate:
                ctx.defects.log(
                    "agriculture",
                    f"{system.code}/{day.isoformat()}",
                    "source_unavailable",
                    f"{system.refresh} delivery missed",
                    day,
                )
                continue
            for table in system.tables:
                rows = _rows(ctx, system, table, day, truth)
                sink.write(table, rows, day)
                counts[f"rows_{system.kind}"] = counts.get(f"rows_{system.kind}", 0) + len(rows)
                if rows:
                    truth.operating[day.strftime("%Y-%m")].add(system.code)
            if isinstance(sink, XlsxSink):
                for path in sink.header_shifts[shifts_logged:]:
                    ctx.defects.log(
                        "agriculture", path, "excel_header_shift", "note row above header", day
                    )
                shifts_logged = len(sink.header_shifts)
        sink.close()
        registry.append(
            {
                "code": system.code,
                "name_vi": system.name_vi,
                "name_en": system.name_en,
                "deployed_by": system.deployed_by,
                "owner": system.owner,
                "kind": system.kind,
                "refresh": system.refresh,
                "domain": system.domain,
                "tables": list(system.tables),
                "location": sink.location(),
            }
        )
    (out / "systems.json").write_text(
        json.dumps(registry, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    truth.flush(ctx, len(systems))
    return counts
