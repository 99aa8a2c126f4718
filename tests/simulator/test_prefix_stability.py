"""Prefix stability: a run to a later end only adds to and advances the run to an earlier one.

``ioc sim advance`` regenerates the province to a later end date, so incremental extraction can
be developed against it. For that, the run to e2 must keep everything the run to e1 < e2 wrote
(same seed, start and scale): files of days ≤ e1 byte for byte, database rows with their keys and
values (only the declared progressing fields may change, and then ``updated_at`` moves past e1),
and the ground truth of months ≤ e1 (minus the documented exceptions). Each check prints the
first difference it finds.
"""

from __future__ import annotations

import importlib
import json
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from simulator.context import SimContext
from simulator.public_services.kpi import month_end

START, E1, E2 = date(2025, 5, 1), date(2025, 6, 30), date(2025, 8, 15)
# The one-stop system is checked over the default window (e1 = E1).
E1_STAMP = f"{E1:%Y%m%d}235959"  # its yyyyMMddHHmmss fields
E1_CAP = f"{E1:%Y-%m-%d} 23:59:59"  # updated_at of a row still arriving at the end of e1
Row = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One sector over one window, with the fields that legitimately progress per table."""

    sector: str
    start: date = START
    e1: date = E1
    e2: date = E2
    progressing: dict[str, frozenset[str]] = field(default_factory=dict)
    # Truth KPIs whose value for a month ≤ e1 depends on what happens to its records later.
    progressing_kpis: frozenset[str] = frozenset()


ONE_STOP = {
    # Set or re-coded when the dossier is received, processed, refused or returned.
    "HoSo": frozenset(
        {
            "NgayTiepNhan",
            "NgayHenTra",
            "NgayKetThucXuLy",
            "NgayTra",
            "NgayTuChoi",
            "TrangThaiHoSo",
            "MaTinh",
            "MaHuyen",
            "MaXa",
            "DonViXuLy",  # a commune unit's code, re-coded with MaXa
            "updated_at",
        }
    ),
    # The log row of an online submission learns the reception and appointment dates later.
    "NhatKyXuLy": frozenset({"NgayBatDau", "NgayKetThucTheoQuyDinh"}),
    "YeuCauBoSung": frozenset({"NgayBoSung"}),
    "PhanAnhKienNghi": frozenset({"NgayXuLy", "HaiLong"}),
}
# Decision 766 indicators of a reception month that depend on the dossier's later life cycle
# (processing end, result, complaints, petition handling, a sync to the national portal up to
# a week late); the others are fixed at reception.
OUTCOME_KPIS = frozenset(
    {
        "766-1.4",
        "766-2.1",
        "766-2.2",
        "766-2.2n",
        "766-3.3",
        "766-4.1",
        "766-4.2",
        "766-4.2f",
        "766-5.2",
        "766-5.3",
        "766-5.4",
        "CQ-03",  # the province rows of 766-4.2 under the DTI's code
    }
)
# Monthly counters of the reporting feed that follow those outcomes.
OUTCOME_COUNTERS = frozenset(
    {
        "on_time",
        "completed",
        "processing_days",
        "digitised",
        "petitions_on_time",
        "petitions_unsatisfied",
    }
)
# The feed files a dossier in the month it reached the portal: a sync up to a week late can
# still add to the month the shorter run ends in. Every counter but the province's own count
# (reported_received) and the petitions' counts dossiers the portal holds.
SYNCED_COUNTERS = frozenset(
    {"received", "synced", "channel_online", "channel_direct", "channel_postal"}
    | {"fee_dossiers", "paid_online", "reused", "citizen", "vneid"}
    | OUTCOME_COUNTERS
)

CASES = [
    Case("public_services", progressing=ONE_STOP, progressing_kpis=OUTCOME_KPIS),
    Case("education"),
    # The window above has no term export; this one crosses HK1 2025-26 and HK2's export.
    Case("education", date(2025, 9, 1), date(2025, 10, 31), date(2026, 3, 15)),
    Case("statistics"),
    Case("agriculture"),
    Case("iot"),
]


def _file_span(sector: str, rel: str) -> tuple[date, date] | None:
    """First and last day a file covers, from its path; None for files without a period."""
    if sector == "education":
        term = re.search(r"exports/(\d{4})-(\d{4})/(HK[12])/", rel)
        assert term is not None, rel
        export = date(int(term[1]), 9, 30) if term[3] == "HK1" else date(int(term[2]), 2, 28)
        return export, export
    day = re.search(r"(\d{4})-(\d{2})-(\d{2})", rel)
    if day:
        d = date(int(day[1]), int(day[2]), int(day[3]))
        return d, d
    month = re.search(r"(\d{4})-(\d{2})(?!\d)", rel)
    if month:
        first = date(int(month[1]), int(month[2]), 1)
        return first, month_end(first)
    return None


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix != ".sqlite"
    }


def _first_line_diff(a: bytes, b: bytes) -> str:
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False)):
        if x != y:
            return f"line {i + 1}: {x[:200]!r} != {y[:200]!r}"
    return f"lengths {len(a)} != {len(b)}"


def _check_files(case: Case, one: Path, two: Path) -> list[str]:
    problems: list[str] = []
    a, b = _files(one / case.sector), _files(two / case.sector)
    for rel in sorted(set(a) | set(b)):
        span = _file_span(case.sector, rel)
        if rel.endswith(".jsonl") and span is None:
            # An append-only log (an API system's table): e1's content is a prefix of e2's.
            if rel not in b or not b[rel].startswith(a.get(rel, b"")):
                problems.append(f"{rel}: e1 content is not a prefix of e2's")
        elif rel == "portal766_summary.json":
            continue  # compared by month in _check_summary
        elif span is None or span[1] <= case.e1:
            if rel not in a or rel not in b:
                problems.append(f"{rel}: only in the run to {'e1' if rel in a else 'e2'}")
            elif a[rel] != b[rel]:
                problems.append(f"{rel}: differs, {_first_line_diff(a[rel], b[rel])}")
        elif span[0] > case.e1 and rel in a:
            problems.append(f"{rel}: dated after e1 but written by the run to e1")
        elif span[0] <= case.e1 < span[1]:
            problems.append(f"{rel}: straddles e1 (no such file expected)")
    return problems


def _check_summary(case: Case, one: Path, two: Path) -> list[str]:
    path = Path(case.sector) / "portal766_summary.json"
    if not (one / path).exists():
        return []
    a, b = (json.loads((root / path).read_text(encoding="utf-8")) for root in (one, two))
    problems = [
        f"summary {part} differs"
        for part in ("province", "units", "formalities")
        if a[part] != b[part]
    ]
    later = {(m["period"], m["unit"]): m for m in b["monthly"]}
    exempt = _late_months(case, two)
    for m in a["monthly"]:
        other = later.get((m["period"], m["unit"]))
        if m["period"] > f"{case.e1:%Y-%m}" or m["period"] in exempt:
            continue
        if other is None:
            problems.append(f"summary {m['period']}/{m['unit']} missing in e2")
            continue
        ends_there = m["period"] == f"{case.e1:%Y-%m}"
        for name, value in m.items():
            if name in OUTCOME_COUNTERS or (ends_there and name in SYNCED_COUNTERS):
                continue
            if other[name] != value:
                problems.append(
                    f"summary {m['period']}/{m['unit']} {name}: {value} != {other[name]}"
                )
    return problems


def _tables(path: Path) -> dict[str, tuple[list[str], list[str], list[Row]]]:
    """Table → (key columns, columns, rows in insertion order)."""
    conn = sqlite3.connect(path)
    out = {}
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in sorted(names):
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        columns = [r[1] for r in info]
        key = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
        rows = [dict(zip(columns, r, strict=True)) for r in conn.execute(f"SELECT * FROM {table}")]
        out[table] = (key, columns, rows)
    conn.close()
    return out


# Natural keys of the one-stop child tables (no primary key declared).
CHILD_KEYS = {
    "NhatKyXuLy": ["MaHoSo", "BuocXuLy"],
    "TaiLieuNop": ["MaHoSo", "STT"],
    "DanhSachLePhi": ["MaHoSo", "STT"],
    "YeuCauBoSung": ["MaHoSo", "LanYeuCau"],
    "KetQuaXuLy": ["MaHoSo"],
    "PhanAnhKienNghi": [],  # first column + occurrence below
}
# When a row comes into being (yyyyMMdd… or yyyy-mm-dd…), to find e2's rows that e1 must have.
CREATED = {
    "HoSo": "NgayNopHoSo",
    "NhatKyXuLy": "ThoiDiemXuLy",
    "YeuCauBoSung": "NgayYeuCau",
    "KetQuaXuLy": "NgayKy",
    "PhanAnhKienNghi": "NgayTiepNhan",
}


def _keyed(key: list[str], columns: list[str], rows: list[Row]) -> dict[tuple[Any, ...], Row]:
    """Rows by key; without one, by the first column and its occurrence (duplicates allowed)."""
    if key:
        return {tuple(r[k] for k in key): r for r in rows}
    seen: Counter[Any] = Counter()
    out = {}
    for r in rows:
        seen[r[columns[0]]] += 1
        out[(r[columns[0]], seen[r[columns[0]]])] = r
    return out


def _created_on_or_before_e1(
    table: str, row: Row, case: Case, hoso_e1: set[str], wrong_end: set[str]
) -> bool | None:
    """Whether the row existed by e1: its creation day and, for a dossier's child, the dossier.
    A result dated with an impossible NgayKetThucXuLy (``wrong_end``) says nothing of when."""
    parent = row.get("MaHoSo") if table != "HoSo" else None
    if parent is not None and (
        parent not in hoso_e1 or (table == "KetQuaXuLy" and parent in wrong_end)
    ):
        return False
    column = CREATED.get(table) or ("report_date" if "report_date" in row else None)
    if column is None:
        return True if "MaHoSo" in row else None
    value = str(row[column] or "")
    if not value:
        return None
    return value.replace("-", "")[:8] <= f"{case.e1:%Y%m%d}"


def _check_database(case: Case, name: str, one: Path, two: Path) -> list[str]:
    problems: list[str] = []
    a, b = _tables(one), _tables(two)
    if set(a) != set(b):
        return [f"{name}: tables {sorted(a)} != {sorted(b)}"]
    hoso_e1 = {r["MaHoSo"] for r in a["HoSo"][2]} if "HoSo" in a else set()
    wrong_end = _defect_keys(two.parent.parent / "defects.parquet", "impossible_date", None)
    for table in a:
        key, columns, rows_a = a[table]
        key = key or CHILD_KEYS.get(table, [])
        first, second = _keyed(key, columns, rows_a), _keyed(key, columns, b[table][2])
        progressing = case.progressing.get(table, frozenset())
        for k, row in first.items():
            other = second.get(k)
            if other is None:
                problems.append(f"{name}.{table} {k}: missing in e2")
                continue
            changed = [c for c in columns if c != "updated_at" and row[c] != other[c]]
            frozen = [c for c in changed if c not in progressing]
            if frozen:
                c = frozen[0]
                problems.append(f"{name}.{table} {k}: {c} {row[c]!r} != {other[c]!r}")
            if "updated_at" in columns and row["updated_at"] != other["updated_at"]:
                # A change after e1 moves updated_at past e1; a row still arriving at the end
                # of e1 was stamped with its last second.
                if not (other["updated_at"] > E1_CAP and (changed or row["updated_at"] == E1_CAP)):
                    problems.append(
                        f"{name}.{table} {k}: updated_at {row['updated_at']} -> "
                        f"{other['updated_at']} with changes {changed}"
                    )
            elif "updated_at" in columns and changed:
                problems.append(f"{name}.{table} {k}: {changed} changed, updated_at did not")
        copies: Counter[str] = Counter()
        for k, row in second.items():
            created = _created_on_or_before_e1(table, row, case, hoso_e1, wrong_end)
            if table == "HoSo":
                copies[row["MaHoSo"]] += 1
                if copies[row["MaHoSo"]] > 1:  # a duplicate is inserted at reception
                    created = str(row["NgayTiepNhan"] or "99") <= E1_STAMP
            if created and k not in first:
                problems.append(f"{name}.{table} {k}: created by e1 but missing in the run to e1")
    return problems


def _truth(path: Path) -> dict[tuple[str, ...], tuple[int, int]]:
    table = pq.read_table(path).to_pylist()
    return {
        (r["kpi_id"], r["period"], r["admin_level"], r["admin_code"], r["structure"]): (
            r["numerator"],
            r["denominator"],
        )
        for r in table
    }


def _defect_keys(path: Path, kind: str, after: date | None) -> set[str]:
    """Record keys of the run's defects of a kind (logged after a day, when given)."""
    defects = pq.read_table(path).to_pylist() if path.exists() else []
    return {
        d["record_key"]
        for d in defects
        if d["kind"] == kind and (after is None or d["day"] > after)
    }


def _late_months(case: Case, two: Path) -> set[str]:
    """Reception months of dossiers quarantined after e1 (an impossible NgayKetThucXuLy written
    after e1 takes the dossier out of its month): the documented truth exception."""
    keys = _defect_keys(two / "defects.parquet", "impossible_date", case.e1)
    if not keys:
        return set()
    conn = sqlite3.connect(two / case.sector / "one_stop.sqlite")
    months = set()
    for key, received in conn.execute("SELECT MaHoSo, NgayTiepNhan FROM HoSo"):
        if key in keys and received:
            months.add(f"{received[:4]}-{received[4:6]}")
    conn.close()
    return months


def _check_truth(case: Case, one: Path, two: Path) -> list[str]:
    a, b = _truth(one / "ground_truth.parquet"), _truth(two / "ground_truth.parquet")
    last = f"{case.e1:%Y-%m}"
    exempt = _late_months(case, two) if case.sector == "public_services" else set()
    problems = []
    for k in sorted(set(a) | set(b)):
        if k[1] > last or k[0] in case.progressing_kpis or k[1] in exempt:
            continue
        if a.get(k) != b.get(k):
            problems.append(f"truth {k}: {a.get(k)} != {b.get(k)}")
    return problems


def _run(make_ctx: Callable[..., SimContext], case: Case, end: date, out: Path) -> None:
    ctx = make_ctx(scale=0.002, start=case.start, end=end, servers=False, out=out)
    sector = importlib.import_module(f"simulator.{case.sector}").SECTOR
    sector.generate(ctx)
    ctx.defects.close()
    ctx.truth.write(out / "ground_truth.parquet")


@pytest.mark.parametrize("case", CASES, ids=[f"{c.sector}-{c.start:%Y%m}" for c in CASES])
def test_a_later_end_only_adds_and_advances(
    make_ctx: Callable[..., SimContext], tmp_path: Path, case: Case
) -> None:
    one, two = tmp_path / "e1", tmp_path / "e2"
    _run(make_ctx, case, case.e1, one)
    _run(make_ctx, case, case.e2, two)
    problems = _check_files(case, one, two) + _check_summary(case, one, two)
    for db in sorted((one / case.sector).rglob("*.sqlite")):
        rel = db.relative_to(one)
        problems += _check_database(case, str(rel), db, two / rel)
    problems += _check_truth(case, one, two)
    by_kind: dict[str, int] = defaultdict(int)
    for p in problems:
        by_kind[p.split(":")[0].split(" ")[0]] += 1
    assert not problems, f"{len(problems)} differences ({dict(by_kind)}); first: {problems[0]}"
