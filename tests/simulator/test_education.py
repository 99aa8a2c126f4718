"""Education exports: workbooks read back without openpyxl match the counts and ground truth."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

import pyarrow.parquet as pq

from simulator.context import SimContext
from simulator.education import SECTOR
from simulator.education.roster import LEVELS, cashless_rate, digital_rate, report, roster, terms_in

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
START, END = date(2025, 1, 1), date(2025, 12, 31)


def _col(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters is not None
    n = 0
    for ch in letters.group():
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_xlsx(path: Path) -> dict[str, list[list[object]]]:
    """Sheets as row lists, parsed from the OOXML parts with the standard library only."""
    with zipfile.ZipFile(path) as z:
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
        rels = {
            r.get("Id"): r.get("Target")
            for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")).findall(
                "rel:Relationship", NS
            )
        }
        out: dict[str, list[list[object]]] = {}
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", NS) or []:
            target = str(rels[sheet.get(f"{{{NS['r']}}}id")]).lstrip("/")
            target = target if target.startswith("xl/") else f"xl/{target}"
            rows: list[list[object]] = []
            for row in ET.fromstring(z.read(target)).iter(f"{{{NS['m']}}}row"):
                index = int(row.get("r", "0")) - 1
                while len(rows) <= index:
                    rows.append([])
                cells: list[object] = []
                for c in row.findall("m:c", NS):
                    kind, v = c.get("t"), c.find("m:v", NS)
                    value: object = None
                    if kind == "s" and v is not None:
                        value = shared[int(v.text or "0")]
                    elif kind == "inlineStr":
                        value = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
                    elif v is not None:
                        text = v.text or ""
                        value = int(text) if kind != "str" and text.isdigit() else text
                    col = _col(c.get("r", "A1"))
                    cells.extend([None] * (col + 1 - len(cells)))
                    cells[col] = value
                rows[index] = cells
            out[str(sheet.get("name"))] = rows
    return out


def records(rows: list[list[object]]) -> tuple[int, list[list[object]]]:
    """(header row index, data rows): data start two rows below the row starting 'Mã trường'."""
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Mã trường")
    return header, [r for r in rows[header + 2 :] if r and r[0]]


def as_int(value: object) -> int:
    return value if isinstance(value, int) else int(str(value).replace(".", ""))


def test_workbooks_read_back_and_truth(make_ctx: Callable[..., SimContext]) -> None:
    ctx = make_ctx(scale=0.005, start=START, end=END, defect_rate=0.3)
    written = SECTOR.generate(ctx)
    ctx.defects.close()
    defects = pq.read_table(ctx.out / "defects.parquet").to_pylist()
    kinds: dict[str, int] = defaultdict(int)
    for d in defects:
        kinds[d["kind"]] += 1
    assert set(kinds) == {
        "nfd_text",
        "number_as_text",
        "excel_header_shift",
        "schema_drift_added_column",
        "outdated_admin_code",
    }
    shifted = {d["record_key"] for d in defects if d["kind"] == "excel_header_shift"}
    frame = ctx.frame
    files = sorted((ctx.out / "education" / "exports").rglob("*.xlsx"))
    assert len(files) == written["workbooks"]
    truth: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    seen_schools = seen_grades = text_numbers = nfd = outdated = 0
    for path in files:
        school_year, term_code = path.parent.parent.name, path.parent.name
        term = next(
            t for t in terms_in(START, END) if (t.school_year, t.code) == (school_year, term_code)
        )
        months = [m for m in term.months if "2025-01" <= m <= "2025-12"]
        sheets = read_xlsx(path)
        header, schools = records(sheets["Truong"])
        assert header == (2 if f"{school_year}/{term_code}/{path.name}" in shifted else 1)
        _, enrol = records(sheets["HocSinh"])
        _, digital = records(sheets["ChuyenDoiSo"])
        pupils: dict[object, int] = defaultdict(int)
        for row in enrol:
            text_numbers += isinstance(row[2], str)
            assert as_int(row[2]) == row[3] + row[4]  # type: ignore[operator]
            pupils[row[0]] += as_int(row[2])
        seen_grades += len(enrol)
        state = {r[0]: (r[1] == "Có", r[4] == "Có") for r in digital}
        assert all(len(r) == (6 if term.index >= 4 else 5) for r in digital)
        for code, name, _level, _kind, province, district, commune in schools:
            seen_schools += 1
            nfd += name != unicodedata.normalize("NFC", str(name))
            if term.before_change:
                assert province in {"87", "82"} and district
                new, legacy = frame.old(str(commune)).new_code, str(district)
            elif district:  # an old code still sent after the change
                outdated += 1
                new, legacy = frame.old(str(commune)).new_code, ""
            else:
                assert province == "82"
                new, legacy = str(commune), ""
            is_digital, cashless = state[code]
            for month in months:
                for kpi, num in (
                    ("GD-01", int(cashless)),
                    ("OPS-SCHOOLS-DIGITAL", int(is_digital)),
                    ("OPS-ENROLMENT", pupils[code]),
                ):
                    for key in [("commune", new), ("province", "82")] + (
                        [("district", legacy)] if legacy else []
                    ):
                        truth[(kpi, month, *key)][0] += num
                        truth[(kpi, month, *key)][1] += 1
    assert seen_schools == written["school_rows"]
    assert seen_grades == written["enrolment_rows"]
    assert (text_numbers, nfd, outdated) == (
        kinds["number_as_text"],
        kinds["nfd_text"],
        kinds["outdated_admin_code"],
    )
    expected = {
        (r["kpi_id"], r["period"], r["admin_level"], r["admin_code"]): [
            r["numerator"],
            r["denominator"],
        ]
        for r in ctx.truth.rows()
    }
    assert expected == dict(truth)
    assert {k[1] for k in truth} == {"2025-02", "2025-03", "2025-04", "2025-05"} | {
        f"2025-{m}" for m in ("09", "10", "11", "12")
    }


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.xlsx"))
    }


def test_same_seed_same_bytes(make_ctx: Callable[..., SimContext], tmp_path: Path) -> None:
    first = make_ctx(scale=0.004, start=START, end=END, out=tmp_path / "a")
    second = make_ctx(scale=0.004, start=START, end=END, out=tmp_path / "b")
    SECTOR.generate(first)
    SECTOR.generate(second)
    a, b = _digests(first.out / "education"), _digests(second.out / "education")
    assert a and a == b
    with zipfile.ZipFile(next((first.out / "education").rglob("*.xlsx"))) as z:
        assert {i.date_time[:3] for i in z.infolist()} in ({(2025, 2, 28)}, {(2025, 9, 30)})
        core = z.read("docProps/core.xml").decode()
    stamps = re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]+)<", core)
    assert (
        len(stamps) == 2
        and stamps[0] == stamps[1]
        and stamps[0][:10] in ("2025-02-28", "2025-09-30")
    )
    other = make_ctx(scale=0.004, seed=8, start=START, end=END, out=tmp_path / "c")
    SECTOR.generate(other)
    assert _digests(other.out / "education") != a


def test_full_scale_roster_calibration(make_ctx: Callable[..., SimContext]) -> None:
    """Scale 1: ~1,320 schools, >80% digital and ~52% cashless in HK1 2024-2025 (±5 points)."""
    ctx = make_ctx(scale=1.0, start=date(2024, 9, 1), end=date(2024, 12, 31))
    schools = roster(ctx)
    assert len(schools) == sum(level.schools for level in LEVELS) == 1320
    term = terms_in(ctx.start, ctx.end)[0]
    reports = [report(ctx, s, term) for s in schools]
    digital = sum(r.digital for r in reports) / len(reports)
    cashless = sum(r.cashless for r in reports) / len(reports)
    assert abs(digital - digital_rate(term)) < 0.05 and digital > 0.8
    vocational = [r for r in reports if r.school.level == "GDNN"]
    assert all(r.cashless for r in vocational)
    general = [r for r in reports if r.school.level != "GDNN"]
    assert abs(sum(r.cashless for r in general) / len(general) - cashless_rate(term, "TH")) < 0.05
    assert 0.5 < cashless < 0.6
    pupils = sum(r.pupils for r in reports)
    assert 450_000 < pupils < 750_000  # ~15–22% of 3.36 million residents in school
