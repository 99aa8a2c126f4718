"""CSV and JSON files as sector systems write them (connectors.formats.tabular)."""

from __future__ import annotations

import json
import unicodedata

import pytest

from connectors.formats import UnreadableFile
from connectors.formats.tabular import decode_text, read_csv, read_csv_table, read_json
from tests.windows_1258 import encode as windows_1258


def test_a_header_only_file_has_its_header_and_no_record() -> None:
    assert read_csv_table("\ufeffa;b;c\r\n".encode()) == (["a", "b", "c"], [])
    assert read_csv_table(b"") == (None, [])


def test_a_trailing_separator_adds_no_nameless_column() -> None:
    names, records = read_csv_table(b"a;b;\r\n1;2;\r\n3;4;x\r\n")
    assert names == ["a", "b"]
    assert records == [{"a": "1", "b": "2"}, {"a": "3", "b": "4", "column_3": "x"}]


def test_blank_lines_above_the_header_are_skipped() -> None:
    assert read_csv(b"\r\n;;\r\na;b\r\n1;2\r\n") == [{"a": "1", "b": "2"}]


def test_header_names_are_nfc() -> None:
    names, _ = read_csv_table(unicodedata.normalize("NFD", "Mã tỉnh,Tên\n82,x\n").encode())
    assert names == ["Mã tỉnh", "Tên"]


def test_windows_1258_without_bom_is_detected() -> None:
    text = (
        "ma_xa;ten_don_vi;ten_chi_tieu\r\n"
        "28270;Phường Thới Sơn;Người từ 15 tuổi có tài khoản thanh toán\r\n"
        "28336;Xã Hưng Thạnh;Người trưởng thành có định danh điện tử VNeID\r\n"
    )
    decoded = decode_text(windows_1258(text))
    assert unicodedata.normalize("NFC", decoded) == text


def test_json_with_another_wrapper_than_declared_names_what_it_has() -> None:
    content = json.dumps({"system": "x", "data": [{"a": 1}]}).encode()
    with pytest.raises(UnreadableFile) as caught:
        read_json(content, record_path="records")
    assert caught.value.reason == "not_records"
    assert "'system', 'data'" in caught.value.detail
    # Without a declared path, the one list it wraps is the records.
    assert read_json(content) == [{"a": "1"}]
