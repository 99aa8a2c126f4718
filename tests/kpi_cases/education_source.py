"""The hand-written education cases as the term exports: Excel workbooks in their layout.

``education/schools.yaml`` holds, per school, its rows in each term's export by hand. This
module groups them into the exporting units' workbooks (``exports/<school year>/<term>/<file>``)
and writes them with the simulator's workbook writer and sheet headers
(``simulator.education.workbooks``): only the container is the simulator's, every value is the
case's. A workbook some school's entry corrects (``later``) is written again, corrected, before
the second landing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from simulator.education.workbooks import (
    CLASS_HEADER,
    DIGITAL_HEADER,
    ENROLMENT_HEADER,
    SCHOOL_HEADER,
    TEACHER_HEADER,
    Cell,
    SheetData,
    write_workbook,
)
from tests.kpi_cases.case_source import CaseSource

EDUCATION_DIR = Path(__file__).parent / "education"
SCHOOLS = EDUCATION_DIR / "schools.yaml"
_TERM_FIELDS = {"workbook", "sends", "pupils", "teachers", "digital", "later"}


def load_education_cases(path: Path = SCHOOLS) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def export_date(workbook: str) -> date:
    """The term's export date from its path: HK1 30 September, HK2 28 February."""
    school_year, term = workbook.split("/")[:2]
    first, second = (int(year) for year in school_year.split("-"))
    return date(first, 9, 30) if term == "HK1" else date(second, 2, 28)


def workbooks(cases: dict[str, Any], stage: str) -> dict[str, list[dict[str, Any]]]:
    """Per workbook path, the entries of its schools as the file stands at ``stage``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, case in cases["cases"].items():
        for term in case["terms"]:
            unknown = set(term) - _TERM_FIELDS
            if unknown:
                raise ValueError(f"{name}: unknown field(s) {sorted(unknown)}")
            entry = {k: v for k, v in term.items() if k != "later"}
            if stage == "later":
                entry.update(term.get("later", {}))
            out.setdefault(term["workbook"], []).append({"school": case["school"], **entry})
    return out


def corrected(cases: dict[str, Any]) -> set[str]:
    """The workbooks re-sent corrected before the second landing."""
    return {
        term["workbook"]
        for case in cases["cases"].values()
        for term in case["terms"]
        if "later" in term
    }


def _sheets(workbook: str, entries: list[dict[str, Any]]) -> list[SheetData]:
    schools: list[list[Cell]] = []
    pupils: list[list[Cell]] = []
    classes: list[list[Cell]] = []
    teachers: list[list[Cell]] = []
    digital: list[list[Cell]] = []
    for entry in entries:
        school = entry["school"]
        code = school["ma_truong"]
        schools.append(
            [code, school["ten_truong"], school["cap_hoc"], school["loai_hinh"], *entry["sends"]]
        )
        for grade, total, boys, girls, class_count in entry["pupils"]:
            pupils.append([code, grade, total, boys, girls])
            classes.append([code, grade, class_count])
        teachers.append([code, *entry["teachers"]])
        row = entry["digital"]
        if row != "none":
            digital.append(
                [code, row["management"], row.get("system"), row.get("platform"), row["cashless"]]
            )
    school_year, term = workbook.split("/")[:2]
    label = f"{term} NĂM HỌC {school_year}"
    return [
        SheetData("Truong", f"DANH SÁCH TRƯỜNG – {label}", SCHOOL_HEADER, schools),
        SheetData("HocSinh", f"SỐ HỌC SINH THEO KHỐI – {label}", ENROLMENT_HEADER, pupils),
        SheetData("LopHoc", f"SỐ LỚP THEO KHỐI – {label}", CLASS_HEADER, classes),
        SheetData("GiaoVien", f"ĐỘI NGŨ GIÁO VIÊN – {label}", TEACHER_HEADER, teachers),
        SheetData("ChuyenDoiSo", f"CHUYỂN ĐỔI SỐ – {label}", DIGITAL_HEADER, digital),
    ]


def write_exports(folder: Path, cases: dict[str, Any], stage: str) -> int:
    """The exports under ``folder`` as they stand at ``stage``: at ``later`` only the corrected
    workbooks are rewritten (the others keep their bytes, so they are not landed again)."""
    written = 0
    rewrite = corrected(cases)
    for workbook, entries in workbooks(cases, stage).items():
        if stage == "later" and workbook not in rewrite:
            continue
        write_workbook(folder / workbook, _sheets(workbook, entries), export_date(workbook), None)
        written += 1
    return written


CASE_SOURCE = CaseSource(
    folder="exports",
    env=lambda folder: {"IOC_EDUCATION_EXPORTS_DIR": str(folder)},
    write=lambda folder, stage: write_exports(folder, load_education_cases(), stage),
    sources=("education_exports",),
)
