"""Excel workbooks as the province's schools export them each term, written with openpyxl.

Layout of every sheet: a title row, then a two-level header (merged cells, e.g. "Số học sinh"
over "Tổng số" / "Nam" / "Nữ"; single-level columns merged over both header rows), then one row
per record. Injected quirks (each logged by the caller): a second title row pushing the header
down (``excel_header_shift``), counts stored as text with Vietnamese thousands separators
(``number_as_text``), school names in NFD (``nfd_text``), an added column from HK1 2025-2026
(``schema_drift_added_column``) and old admin codes after 1 July 2025 (``outdated_admin_code``).

Bytes are deterministic: openpyxl stamps ``dcterms:modified`` and every zip entry with the current
time on save, so the zip is rewritten with fixed entry dates and a ``docProps/core.xml`` whose
created/modified are the export date.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

# (top header, sub headers); an empty sub tuple = a single column merged over both header rows.
Header = tuple[str, tuple[str, ...]]
Cell = str | int | None

SCHOOL_HEADER: list[Header] = [
    ("Mã trường", ()),
    ("Tên trường", ()),
    ("Cấp học", ()),
    ("Loại hình", ()),
    ("Địa bàn", ("Mã tỉnh", "Mã huyện", "Mã xã")),
]
ENROLMENT_HEADER: list[Header] = [
    ("Mã trường", ()),
    ("Khối lớp", ()),
    ("Số học sinh", ("Tổng số", "Nam", "Nữ")),
]
CLASS_HEADER: list[Header] = [("Mã trường", ()), ("Khối lớp", ()), ("Số lớp", ())]
TEACHER_HEADER: list[Header] = [
    ("Mã trường", ()),
    ("Giáo viên", ("Tổng số", "Nữ", "Đạt chuẩn trở lên")),
]
DIGITAL_HEADER: list[Header] = [
    ("Mã trường", ()),
    ("Phần mềm quản lý nhà trường", ("Có/Không", "Tên hệ thống")),
    ("Nền tảng học tập trực tuyến", ()),
    ("Thu học phí không dùng tiền mặt", ()),
]
# The column schools add from HK1 2025-2026, when digital school records become mandatory.
ADDED_COLUMN: Header = ("Học bạ số", ())


@dataclass
class SheetData:
    name: str  # the sheet's tab name
    title: str
    header: list[Header]
    rows: list[list[Cell]]


def _write_sheet(ws: Worksheet, sheet: SheetData, extra_title: str | None) -> None:
    width = sum(max(1, len(subs)) for _, subs in sheet.header)
    ws.cell(row=1, column=1, value=sheet.title).font = Font(bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    top = 2
    if extra_title is not None:
        ws.cell(row=2, column=1, value=extra_title)
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
        top = 3
    col = 1
    for label, subs in sheet.header:
        ws.cell(row=top, column=col, value=label).alignment = Alignment(
            horizontal="center", vertical="center", wrap_text=True
        )
        if subs:
            ws.merge_cells(
                start_row=top, start_column=col, end_row=top, end_column=col + len(subs) - 1
            )
            for offset, sub in enumerate(subs):
                ws.cell(row=top + 1, column=col + offset, value=sub)
            col += len(subs)
        else:
            ws.merge_cells(start_row=top, start_column=col, end_row=top + 1, end_column=col)
            col += 1
    for r, row in enumerate(sheet.rows, start=top + 2):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)


def write_workbook(
    path: Path, sheets: Sequence[SheetData], exported: date, extra_title: str | None
) -> None:
    """Write ``sheets`` to ``path`` with bytes that depend only on the arguments."""
    wb = Workbook()
    default = wb.active
    assert default is not None  # a new Workbook always has one sheet
    wb.remove(default)
    for sheet in sheets:
        _write_sheet(wb.create_sheet(sheet.name), sheet, extra_title)
    stamp = datetime(exported.year, exported.month, exported.day, 7, 0, 0)
    wb.properties.created = stamp
    wb.properties.creator = "Phần mềm thống kê giáo dục"
    buffer = io.BytesIO()
    wb.save(buffer)  # sets properties.modified to now: put the export date back for core.xml
    wb.properties.modified = stamp
    core = tostring(wb.properties.to_tree())
    path.parent.mkdir(parents=True, exist_ok=True)
    fixed = (exported.year, exported.month, exported.day, 7, 0, 0)
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=fixed)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            data = core if info.filename == "docProps/core.xml" else src.read(info.filename)
            dst.writestr(entry, data)
