"""Education sector: the province's schools exporting Excel statistics workbooks each term.

Files: ``<out>/education/exports/<school year>/<HK1|HK2>/<unit>.xlsx``. Before 1 July 2025 each
district's education office (Phòng GD&ĐT) sends one workbook for its schools
(``phong-gddt-<district code>.xlsx``, old codes); afterwards districts no longer exist, so each
commune sends one for its preschools, primary and lower-secondary schools
(``xa-<new commune code>.xlsx``) and the provincial Department of Education one for upper
secondary, continuing and vocational schools (``so-gddt-82.xlsx``). Sheets: ``Truong`` (schools),
``HocSinh`` (enrolment by grade and sex), ``LopHoc`` (classes), ``GiaoVien`` (teachers),
``ChuyenDoiSo`` (digital management, learning platform, cashless tuition).

Ground truth, per school in a written workbook, for every month of the term that lies in the run's
range (each month carries the state of the term it belongs to; June–August carry none):
GD-01 = schools with cashless tuition / schools; OPS-SCHOOLS-DIGITAL = schools with digital
management / schools; OPS-ENROLMENT = pupils enrolled / schools reporting. Every injected defect
leaves the record readable (text numbers parse, old codes resolve through the crosswalk), so every
written school counts.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from simulator.context import SimContext
from simulator.education.roster import (
    DEPARTMENT_LEVELS,
    LEVEL_BY_CODE,
    Report,
    School,
    Term,
    digital_rate,
    report,
    roster,
    terms_in,
)
from simulator.education.workbooks import (
    ADDED_COLUMN,
    CLASS_HEADER,
    DIGITAL_HEADER,
    ENROLMENT_HEADER,
    SCHOOL_HEADER,
    TEACHER_HEADER,
    Cell,
    SheetData,
    write_workbook,
)
from simulator.frame import NEW_PROVINCE, REORGANISATION
from simulator.sector import Service

SOURCE = "education_exports"
DRIFT_FROM_INDEX = 4  # HK1 2025-2026: the "Học bạ số" column appears
YES, NO = "Có", "Không"


def _months(start: date, end: date) -> set[str]:
    months = set()
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.add(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _groups(ctx: SimContext, schools: list[School], term: Term) -> dict[str, list[School]]:
    """Workbook file name → its schools, the way reporting was organised on the export date."""
    groups: dict[str, list[School]] = defaultdict(list)
    for school in schools:
        commune = ctx.frame.old(school.old_commune)
        if term.before_change:
            groups[f"phong-gddt-{commune.district_code}.xlsx"].append(school)
        elif school.level in DEPARTMENT_LEVELS:
            groups[f"so-gddt-{NEW_PROVINCE}.xlsx"].append(school)
        else:
            groups[f"xa-{commune.new_code}.xlsx"].append(school)
    return groups


def _unit_name(ctx: SimContext, file_name: str, first: School) -> str:
    commune = ctx.frame.old(first.old_commune)
    if file_name.startswith("phong-gddt"):
        return f"Phòng GD&ĐT {commune.district_name}"
    if file_name.startswith("so-gddt"):
        return "Sở GD&ĐT Đồng Tháp"
    return f"UBND {ctx.frame.new(commune.new_code).name}"


class EducationSector:
    name = "education"

    def generate(self, ctx: SimContext) -> dict[str, int]:
        schools = roster(ctx)
        months_in_range = _months(ctx.start, ctx.end)
        written = {"workbooks": 0, "school_rows": 0, "enrolment_rows": 0}
        for term in terms_in(ctx.start, ctx.end):
            folder = ctx.out / self.name / "exports" / term.school_year / term.code
            groups = _groups(ctx, schools, term)
            months = sorted(m for m in term.months if m in months_in_range)
            for file_name in sorted(groups):
                members = groups[file_name]
                reports = [report(ctx, s, term) for s in members]
                self._write(ctx, folder / file_name, term, reports)
                for r in reports:
                    self._truth(ctx, r, months)
                written["workbooks"] += 1
                written["school_rows"] += len(reports)
                written["enrolment_rows"] += sum(len(r.grades) for r in reports)
        return written

    def _write(self, ctx: SimContext, path: Path, term: Term, reports: list[Report]) -> None:
        rng = ctx.rng("education", "defects", term.school_year, term.code, path.name)
        key = f"{term.school_year}/{term.code}/{path.name}"
        day = term.export_date
        schools_rows: list[list[Cell]] = []
        enrol_rows: list[list[Cell]] = []
        class_rows: list[list[Cell]] = []
        teacher_rows: list[list[Cell]] = []
        digital_rows: list[list[Cell]] = []
        drift = term.index >= DRIFT_FROM_INDEX
        for r in reports:
            s = r.school
            name = s.name
            if rng.random() < ctx.defect_rate:
                name = unicodedata.normalize("NFD", name)
                ctx.defects.log(SOURCE, f"{key}/{s.code}", "nfd_text", "school name in NFD", day)
            if not term.before_change and s.u_outdated < ctx.defect_rate:
                # a school system never updated: it still sends the pre-July codes
                province, district, commune = ctx.frame.codes_on(
                    s.old_commune, REORGANISATION - timedelta(days=1)
                )
                ctx.defects.log(
                    SOURCE,
                    f"{key}/{s.code}",
                    "outdated_admin_code",
                    f"sent old commune {commune} after the reorganisation",
                    day,
                )
            else:
                province, district, commune = ctx.frame.codes_on(s.old_commune, day)
            level = LEVEL_BY_CODE[s.level]
            schools_rows.append(
                [
                    s.code,
                    name,
                    level.label,
                    "Công lập" if s.public else "Tư thục",
                    province,
                    district,
                    commune,
                ]
            )
            for g in r.grades:
                total: Cell = g.boys + g.girls
                if rng.random() < ctx.defect_rate:
                    total = f"{g.boys + g.girls:,}".replace(",", ".")
                    ctx.defects.log(
                        SOURCE,
                        f"{key}/{s.code}/{g.grade}",
                        "number_as_text",
                        f"enrolment total stored as text {total!r}",
                        day,
                    )
                enrol_rows.append([s.code, g.grade, total, g.boys, g.girls])
                class_rows.append([s.code, g.grade, g.classes])
            teacher_rows.append([s.code, r.teachers, r.female_teachers, r.qualified_teachers])
            row: list[Cell] = [
                s.code,
                YES if r.digital else NO,
                s.system if r.digital else None,
                s.platform if r.digital else None,
                YES if r.cashless else NO,
            ]
            if drift:
                row.append(YES if s.u_digital < digital_rate(term) - 0.15 else NO)
            digital_rows.append(row)
        digital_header = [*DIGITAL_HEADER, ADDED_COLUMN] if drift else DIGITAL_HEADER
        if drift:
            ctx.defects.log(
                SOURCE, key, "schema_drift_added_column", f"column {ADDED_COLUMN[0]!r} added", day
            )
        label = f"{term.code} NĂM HỌC {term.school_year}"
        sheets = [
            SheetData("Truong", f"DANH SÁCH TRƯỜNG – {label}", SCHOOL_HEADER, schools_rows),
            SheetData("HocSinh", f"SỐ HỌC SINH THEO KHỐI – {label}", ENROLMENT_HEADER, enrol_rows),
            SheetData("LopHoc", f"SỐ LỚP THEO KHỐI – {label}", CLASS_HEADER, class_rows),
            SheetData("GiaoVien", f"ĐỘI NGŨ GIÁO VIÊN – {label}", TEACHER_HEADER, teacher_rows),
            SheetData("ChuyenDoiSo", f"CHUYỂN ĐỔI SỐ – {label}", digital_header, digital_rows),
        ]
        extra_title = None
        if rng.random() < ctx.defect_rate:
            unit = _unit_name(ctx, path.name, reports[0].school)
            extra_title = f"Đơn vị báo cáo: {unit} – ngày {day:%d/%m/%Y}"
            ctx.defects.log(
                SOURCE, key, "excel_header_shift", "second title row: header starts at row 3", day
            )
        write_workbook(path, sheets, day, extra_title)

    def _truth(self, ctx: SimContext, r: Report, months: list[str]) -> None:
        old = ctx.frame.old(r.school.old_commune)
        values = (
            ("GD-01", int(r.cashless)),
            ("OPS-SCHOOLS-DIGITAL", int(r.digital)),
            ("OPS-ENROLMENT", r.pupils),
        )
        for month in months:
            for kpi, numerator in values:
                ctx.truth.add(kpi, month, "commune", old.new_code, "2025", numerator, 1)
                ctx.truth.add(kpi, month, "province", NEW_PROVINCE, "2025", numerator, 1)
                if month < f"{REORGANISATION:%Y-%m}":
                    ctx.truth.add(kpi, month, "district", old.district_code, "legacy", numerator, 1)

    def services(self, sim_dir: Path, port_base: int) -> list[Service]:
        return []  # the exports are files the connector picks up; no server to run


SECTOR = EducationSector()
