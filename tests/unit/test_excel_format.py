"""The excel format on workbooks laid out the way schools make them (connectors.formats.excel)."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from typing import Any

import pytest
from openpyxl import Workbook

from connectors.formats import Part, UnreadableFile
from connectors.formats.excel import SheetSpec, read_workbook
from connectors.formats.headers import column_name, header_key, label_matches


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _workbook(sheets: dict[str, Sequence[Sequence[Any]]], merges: Sequence[str] = ()) -> bytes:
    workbook = Workbook()
    assert workbook.active is not None
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
        for merge in merges:
            sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


ENROLMENT = SheetSpec(
    patterns=("HocSinh", "Tổng hợp*", "TH *"),
    columns={
        header_key(s): name
        for name, spellings in {
            "ma_truong": ["ma_truong", "Mã trường", "Mã số trường"],
            "khoi_lop": ["khoi_lop", "Khối lớp", "Khối"],
            "so_hoc_sinh__tong_so": ["so_hoc_sinh__tong_so", "Tổng số học sinh"],
            "so_hoc_sinh__nam": ["so_hoc_sinh__nam", "Học sinh nam"],
            "so_hoc_sinh__nu": ["so_hoc_sinh__nu", "Học sinh nữ"],
        }.items()
        for s in spellings
    },
    skip_rows=("Tổng cộng*", "Cộng*"),
    end_rows=("Người lập*", "*, ngày * tháng * năm *"),
    ignore=frozenset({header_key("STT"), header_key("Tên trường")}),
)


def test_spellings_of_one_header_share_a_key() -> None:
    assert column_name("Số học sinh", "Nam") == "so_hoc_sinh__nam"
    key = header_key("Địa bàn / Mã tỉnh")
    assert key == "dia_ban_ma_tinh"
    assert header_key("dia_ban__ma_tinh") == key
    assert header_key(_nfd("ĐỊA BÀN - MÃ TỈNH")) == key
    assert header_key("Mã tỉnh") != key


def test_labels_match_after_nfc_and_case_folding_with_wildcards_only() -> None:
    assert label_matches(_nfd("TỔNG HỢP  HK1"), ["Tổng hợp*"])
    assert label_matches("TH HK2", ["Tổng hợp*", "TH *"])
    assert not label_matches("THCS", ["TH *"])
    assert label_matches("Sheet1", ["sheet?"])
    # Brackets are literal (no character classes): a row label "[1]" is itself.
    assert label_matches("[1]", ["[1]"]) and not label_matches("1", ["[1]"])


def test_a_workbook_with_none_of_the_declared_sheets_is_unreadable() -> None:
    content = _workbook({"Sheet1": [["Họ và tên", "Lớp"], ["A", "6A1"]], "Báo cáo": [["x"]]})
    with pytest.raises(UnreadableFile) as caught:
        read_workbook(content, {"hoc_sinh": ENROLMENT, "truong": SheetSpec(patterns=("Truong",))})
    assert caught.value.reason == "no_declared_sheet"
    detail = caught.value.detail
    assert '"Sheet1", "Báo cáo"' in detail  # the sheets it has
    assert '"HocSinh" or "Tổng hợp*" or "TH *" (hoc_sinh)' in detail  # and those expected
    assert '"Truong" (truong)' in detail


def test_declared_sheets_without_rows_read_as_empty_with_their_header() -> None:
    content = _workbook({"HocSinh": [["Tiêu đề"], ["Mã trường", "Khối lớp", "Tổng số học sinh"]]})
    read = read_workbook(content, {"hoc_sinh": ENROLMENT})
    assert read.tables == {"hoc_sinh": []}
    assert read.parts == [
        Part("hoc_sinh", "HocSinh", ["ma_truong", "khoi_lop", "so_hoc_sinh__tong_so"])
    ]


def test_a_schools_summary_sheet_lands_under_the_declared_names() -> None:
    """ "Tổng hợp HK1" in NFD capitals, two title rows, a two-row merged header, a row number,
    numbers as text, an empty numbered row, a totals row, a date line and signatures."""
    rows: list[list[Any]] = [
        ["BÁO CÁO TỔNG HỢP HỌC SINH"],
        ["Năm học 2025-2026"],
        ["STT", "Mã trường", "Tên trường", "Khối lớp", "Số học sinh", None, None],
        [None, None, None, None, "Tổng số", "Nam", "Nữ"],
        [1, "8230001", "THCS Mỹ Tho", "Lớp 6", "1.024", 500, 524],
        [2, "8230001", "THCS Mỹ Tho", "Lớp 7", "88 ", "40", 48],
        [3],
        ["Tổng cộng", None, None, None, 1112, 540, 572],
        [None, None, None, None, "Mỹ Tho, ngày 30 tháng 9 năm 2025"],
        [None, "Người lập biểu", None, None, "Hiệu trưởng"],
        [None, "Nguyễn Văn A"],
    ]
    content = _workbook(
        {"Hướng dẫn": [["Nhập số liệu"]], _nfd("TỔNG HỢP HK1"): rows, "Sheet2": []},
        merges=["A1:G1", "A2:G2", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:G3", "A8:D8"],
    )
    read = read_workbook(content, {"hoc_sinh": ENROLMENT})
    assert read.tables["hoc_sinh"] == [
        {
            "ma_truong": "8230001",
            "khoi_lop": "Lớp 6",
            "so_hoc_sinh__tong_so": "1.024",
            "so_hoc_sinh__nam": "500",
            "so_hoc_sinh__nu": "524",
        },
        {
            "ma_truong": "8230001",
            "khoi_lop": "Lớp 7",
            "so_hoc_sinh__tong_so": "88 ",
            "so_hoc_sinh__nam": "40",
            "so_hoc_sinh__nu": "48",
        },
    ]
    # The instructions sheet is reported; the blank one is not.
    assert read.undeclared == {"Hướng dẫn": 1}


def test_other_header_spellings_land_under_the_declared_name() -> None:
    content = _workbook(
        {
            "HocSinh": [
                [_nfd("MÃ SỐ TRƯỜNG"), "Khối", "Học sinh nam", "Học sinh nữ", "Ghi chú"],
                ["8230001", "Lớp 6", 10, 12, "mới"],
            ]
        }
    )
    read = read_workbook(content, {"hoc_sinh": ENROLMENT})
    assert read.tables["hoc_sinh"] == [
        {
            "ma_truong": "8230001",
            "khoi_lop": "Lớp 6",
            "so_hoc_sinh__nam": "10",
            "so_hoc_sinh__nu": "12",
            "ghi_chu": "mới",  # not declared: lands under its own name, for drift to report
        }
    ]
    assert read.parts[0].columns == [
        "ma_truong",
        "khoi_lop",
        "so_hoc_sinh__nam",
        "so_hoc_sinh__nu",
        "ghi_chu",
    ]


def test_a_sheet_with_content_but_no_header_is_reported_headerless() -> None:
    content = _workbook({"HocSinh": [["Số liệu đang cập nhật"], [1, 2, 3]]})
    read = read_workbook(content, {"hoc_sinh": ENROLMENT})
    assert read.parts == [Part("hoc_sinh", "HocSinh", None)]
    assert read.tables["hoc_sinh"] == []


def test_every_matching_sheet_feeds_the_table() -> None:
    header = ["Mã trường", "Khối lớp", "Tổng số học sinh"]
    content = _workbook(
        {"TH Tiểu học": [header, ["1", "Lớp 1", 30]], "TH THCS": [header, ["2", "Lớp 6", 40]]}
    )
    read = read_workbook(content, {"hoc_sinh": ENROLMENT})
    assert [r["ma_truong"] for r in read.tables["hoc_sinh"]] == ["1", "2"]
    assert [p.sheet for p in read.parts] == ["TH Tiểu học", "TH THCS"]


def test_no_declared_sheet_pattern_reads_the_first_sheet() -> None:
    content = _workbook({"Bất kỳ": [["a", "b"], [1, 2]], "Khác": [["c"]]})
    read = read_workbook(content, {"t": SheetSpec()})
    assert read.tables == {"t": [{"a": "1", "b": "2"}]}
    assert read.undeclared == {"Khác": 1}


def test_a_truncated_workbook_is_corrupt() -> None:
    content = _workbook({"HocSinh": [["Mã trường", "Khối lớp"], ["1", "Lớp 1"]]})
    with pytest.raises(UnreadableFile) as caught:
        read_workbook(content[: len(content) // 2], {"hoc_sinh": ENROLMENT})
    assert caught.value.reason == "corrupt_workbook"
