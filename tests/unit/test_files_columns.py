"""The files kind checks each file's declared columns before landing it, whatever its format
(connectors.kinds.files), and the registry validates the excel declarations."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from connectors.extract import run_extract
from connectors.formats import UnreadableFile
from connectors.kinds.files import _decode, _NewFile
from connectors.registry import (
    DriftAction,
    FilesSpec,
    RegistryError,
    Source,
    load_registry,
    load_source,
)
from iochub.settings import Settings


def _education(home: Settings) -> Source:
    return load_registry(home)["education_exports"]


def _workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    assert workbook.active is not None
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD_SCHOOLS: list[list[Any]] = [
    ["Mã trường", "Tên trường", "Cấp học", "Loại hình", "Địa bàn", None, None],
    [None, None, None, None, "Mã tỉnh", "Mã huyện", "Mã xã"],
    ["8220001", "Trường Tiểu học Đạo Thạnh", "Tiểu học", "Công lập", "82", None, "28249"],
]
GOOD_PUPILS: list[list[Any]] = [
    ["Mã trường", "Khối lớp", "Số học sinh", None, None],
    [None, None, "Tổng số", "Nam", "Nữ"],
    ["8220001", "Lớp 1", 112, 58, 54],
]
# Two columns missing in each of two sheets: the "Địa bàn" group's Mã tỉnh / Mã xã, and
# "Khối lớp" / "Số học sinh / Tổng số".
BAD: dict[str, list[list[Any]]] = {
    "Truong": [
        ["Mã trường", "Tên trường", "Cấp học", "Loại hình"],
        ["8220002", "Trường Tiểu học Thới Sơn", "Tiểu học", "Công lập"],
    ],
    "HocSinh": [
        ["Mã trường", "Số học sinh", None],
        [None, "Nam", "Nữ"],
        ["8220002", 40, 41],
    ],
}


def _decoded(source: Source, item: str, content: bytes) -> Any:
    assert source.files is not None
    tables = list(source.tables)
    return _decode(_NewFile(item, Path(item), tables), "sha", content, source.files, "run")


def test_missing_columns_of_every_sheet_in_one_message_in_the_senders_spelling(
    home: Settings,
) -> None:
    outcome = _decoded(_education(home), "2025-2026/HK1/thoi-son.xlsx", _workbook(BAD))
    assert isinstance(outcome, UnreadableFile)
    assert outcome.reason == "missing_columns"
    assert outcome.detail == (
        '2025-2026/HK1/thoi-son.xlsx: sheet "Truong": missing column(s) "Địa bàn / Mã tỉnh", '
        '"Địa bàn / Mã xã"; sheet "HocSinh": missing column(s) "Khối lớp", '
        '"Số học sinh / Tổng số"'
    )


def test_a_bad_workbook_is_quarantined_alone_and_the_good_one_lands(
    home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "exports"
    inbox.mkdir()
    (inbox / "a-good.xlsx").write_bytes(_workbook({"Truong": GOOD_SCHOOLS, "HocSinh": GOOD_PUPILS}))
    (inbox / "b-bad.xlsx").write_bytes(_workbook(BAD))
    (inbox / "c-unrelated.xlsx").write_bytes(_workbook({"Sheet1": [["Họ tên", "Điểm"]]}))
    monkeypatch.setenv("IOC_EDUCATION_EXPORTS_DIR", str(inbox))
    manifest = run_extract("education_exports", home)
    assert (manifest.items_in, manifest.items_landed, manifest.items_quarantined) == (3, 1, 2)
    outcomes = sorted(manifest.items.values())
    assert outcomes == [
        "landed:a-good.xlsx",
        "quarantined:missing_columns:b-bad.xlsx",
        "quarantined:no_declared_sheet:c-unrelated.xlsx",
    ]
    assert manifest.rows_landed == {"truong": 1, "hoc_sinh": 1}


def test_removed_columns_under_evolve_reach_the_contract(home: Settings) -> None:
    source = _education(home)
    evolve = source.model_copy(
        update={
            "tables": [
                t.model_copy(
                    update={"drift": t.drift.model_copy(update={"removed": DriftAction.EVOLVE})}
                )
                for t in source.tables
            ]
        }
    )
    outcome = _decoded(evolve, "bad.xlsx", _workbook(BAD))
    assert not isinstance(outcome, UnreadableFile)
    assert outcome.tables["truong"].num_rows == 1


def test_a_sheet_without_header_is_named(home: Settings) -> None:
    content = _workbook({"Truong": GOOD_SCHOOLS, "HocSinh": [["Đang cập nhật"], [1, 2, 3]]})
    outcome = _decoded(_education(home), "x.xlsx", content)
    assert isinstance(outcome, UnreadableFile)
    assert outcome.reason == "no_header"
    assert outcome.detail.startswith('x.xlsx: sheet "HocSinh": no header row in its first 20 rows')
    assert '"Mã trường", "Khối lớp", "Số học sinh / Tổng số"' in outcome.detail


# ---- CSV and JSON --------------------------------------------------------------------------

FEED = (
    "ky_bao_cao;cap;ma_tinh;ma_huyen;ma_xa;ten_don_vi;ma_chi_tieu;ten_chi_tieu;tu_so;mau_so;"
    "don_vi_tinh;ty_le;ngay_cong_bo"
)


def _feed(home: Settings) -> Source:
    return load_registry(home)["statistics_feed"]


def test_a_header_only_csv_is_checked_on_its_header(home: Settings) -> None:
    complete = _decoded(_feed(home), "f.csv", ("\ufeff" + FEED + "\r\n").encode())
    assert not isinstance(complete, UnreadableFile)
    assert complete.tables["chi_tieu"].num_rows == 0
    lacking = FEED.replace(";tu_so;mau_so", "")
    outcome = _decoded(_feed(home), "f.csv", ("\ufeff" + lacking + "\r\n").encode())
    assert isinstance(outcome, UnreadableFile)
    assert outcome.reason == "missing_columns"
    assert outcome.detail == 'f.csv: missing column(s) "tu_so", "mau_so"'


def test_csv_headers_in_another_case_or_form_land_under_the_declared_names(
    home: Settings,
) -> None:
    header = FEED.upper().replace("TEN_DON_VI", "Tên đơn vị")
    row = "2025-07;xa;82;;28273;Phường Mỹ Phong;XH-02;Hộ;900;1000;hộ;90,0;20/08/2025"
    outcome = _decoded(_feed(home), "f.csv", f"{header}\n{row}\n".encode())
    assert not isinstance(outcome, UnreadableFile)
    table = outcome.tables["chi_tieu"]
    assert [n for n in table.column_names if not n.startswith("_")] == FEED.split(";")
    assert table.column("ten_don_vi").to_pylist() == ["Phường Mỹ Phong"]


def _logbook(home: Settings) -> Source:
    source = load_registry(home)["agri_dt09"]
    return source.model_copy(update={"tables": [source.table("livestock_census")]})


def _census(records: list[dict[str, Any]]) -> bytes:
    return json.dumps({"records": records}).encode()


def test_a_json_key_no_record_has_is_a_missing_column(home: Settings) -> None:
    rows = [
        {"record_id": "1", "report_date": "2025-07-31", "province_code": "82"},
        {"record_id": "2", "report_date": "2025-07-31", "province_code": "82"},
    ]
    outcome = _decoded(_logbook(home), "c.json", _census(rows))
    assert isinstance(outcome, UnreadableFile)
    assert (outcome.reason, outcome.detail) == (
        "missing_columns",
        'c.json: missing column(s) "commune_code"',
    )
    # One record with it: a column some records leave empty, for the contract row by row.
    rows[0]["commune_code"] = "28261"
    assert not isinstance(_decoded(_logbook(home), "c.json", _census(rows)), UnreadableFile)
    # No record at all: nothing to check, an empty file.
    empty = _decoded(_logbook(home), "c.json", _census([]))
    assert not isinstance(empty, UnreadableFile)


def test_a_former_name_counts_as_the_column(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nsector: iot\ntitle: t\nowner: o\nkind: files\nconnection: {env: X}\n"
        "schedule: '@daily'\nfreshness_hours: 1\nfiles: {format: csv}\n"
        "tables:\n  - name: a\n    title: a\n    pattern: '*.csv'\n    primary_key: [k]\n"
        "    columns:\n      k: {required: true, renamed_from: [old_k]}\n"
    )
    source = load_source(path)
    assert isinstance(source.files, FilesSpec)
    assert not isinstance(_decoded(source, "a.csv", b"old_k\n1\n"), UnreadableFile)
    assert isinstance(_decoded(source, "a.csv", b"other\n1\n"), UnreadableFile)


# ---- the registry's excel declarations -----------------------------------------------------

BASE = (
    "name: s\nsector: education\ntitle: t\nowner: o\nkind: files\nconnection: {env: X}\n"
    "schedule: '@daily'\nfreshness_hours: 1\nfiles: {format: FORMAT}\n"
    "tables:\n  - name: a\n    title: a\n    primary_key: [k]\n"
)


def _load(tmp_path: Path, table: str, fmt: str = "excel") -> Source:
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("FORMAT", fmt) + table)
    return load_source(path)


def test_sheet_patterns_and_layout_are_declared_for_excel(tmp_path: Path) -> None:
    source = _load(
        tmp_path,
        "    sheets: ['Tổng hợp*', 'TH *']\n"
        "    layout: {skip_rows: ['Tổng cộng*'], end_rows: ['Người lập*'],"
        " ignore_columns: [STT]}\n"
        "    columns:\n      k: {headers: ['Mã trường', 'Mã số trường']}\n",
    )
    table = source.table("a")
    assert table.sheets == ["Tổng hợp*", "TH *"]
    assert table.layout.skip_rows == ["Tổng cộng*"]


@pytest.mark.parametrize(
    ("table", "fmt", "message"),
    [
        ("    sheets: ['Tổng/hợp']\n", "excel", "never in a sheet name"),
        ("    sheets: ['  ']\n", "excel", "empty pattern"),
        ("    sheets: ['TH *']\n", "csv", "sheets and layout are for excel"),
        ("    sheet: A\n    layout: {skip_rows: ['']}\n", "excel", "empty pattern"),
        (
            "    sheet: A\n    columns:\n      k: {headers: ['Mã']}\n      ma: {}\n",
            "excel",
            "names ma too",
        ),
        (
            "    sheet: A\n    columns:\n      k: {headers: ['Mã']}\n      j: {headers: ['MA']}\n",
            "excel",
            "names k too",
        ),
        (
            "    sheet: A\n    layout: {ignore_columns: ['Mã']}\n    columns:\n"
            "      k: {headers: ['Mã']}\n",
            "excel",
            "names column k",
        ),
        ("    sheet: A\n    columns:\n      k: {headers: ['--']}\n", "excel", "no letter"),
    ],
)
def test_bad_excel_declarations_are_refused(
    tmp_path: Path, table: str, fmt: str, message: str
) -> None:
    with pytest.raises(RegistryError, match=message):
        _load(tmp_path, table, fmt)
