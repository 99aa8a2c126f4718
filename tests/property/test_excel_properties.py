"""Generated school workbooks, mutated the ways real ones differ, through the excel format, the
files kind's column check and the landing contract (education_exports' ``hoc_sinh`` table).

Every workbook either lands with exactly the values it was generated with, or is quarantined
whole with the reason its mutation calls for; nothing raises. Mutations: title rows, one- or
two-level headers, the sheet under another accepted name, an optional or a required column
dropped, columns in another order, headers in capitals or NFD, another accepted header
spelling, an unknown sheet or column, a sheet no table declares, truncated bytes.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from connectors.contract import apply_contract
from connectors.formats import UnreadableFile
from connectors.kinds.files import _decode, _NewFile
from connectors.registry import Source, load_registry
from iochub.settings import get_settings

KEY = b"property-test-key"
GROUP = "Số học sinh"


@cache
def _source() -> Source:
    return load_registry(get_settings())["education_exports"]


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    sub: str | None  # the sub-header under "Số học sinh" in a two-level header
    spellings: tuple[str, ...]  # one-level headers schools write


COLUMNS = (
    Column("ma_truong", True, None, ("Mã trường", "Mã số trường", "Mã trường học")),
    Column("khoi_lop", True, None, ("Khối lớp", "Khối")),
    Column("so_hoc_sinh__tong_so", True, "Tổng số", ("Tổng số học sinh", "Số học sinh - Tổng số")),
    Column("so_hoc_sinh__nam", False, "Nam", ("Học sinh nam", "Số học sinh nam")),
    Column("so_hoc_sinh__nu", False, "Nữ", ("Học sinh nữ", "Số học sinh nữ")),
)
GRADES = ("Nhà trẻ", "Mẫu giáo 5-6 tuổi", *(f"Lớp {g}" for g in range(1, 13)))
MUTATIONS = (
    "drop_optional",
    "drop_required",
    "reorder",
    "capitals",
    "nfd",
    "unknown_sheet",
    "unknown_column",
    "undeclared_sheet_name",
    "truncate",
)


def _count_cell(n: int) -> st.SearchStrategy[Any]:
    """A count as schools' cells hold it: a number, or text (spaces, thousands dots)."""
    forms: list[Any] = [n, str(n), f" {n} ", f"{n} "]
    if n >= 1000:
        forms.append(f"{n:,}".replace(",", "."))
    return st.sampled_from(forms)


@st.composite
def _pupil_row(draw: st.DrawFn) -> dict[str, tuple[Any, Any]]:
    """One generated row: per column, (the value landing must give, the cell written)."""
    school = draw(st.from_regex(r"82[0-9]{5}", fullmatch=True))
    grade = draw(st.sampled_from(GRADES))
    boys, girls = draw(st.integers(0, 2500)), draw(st.integers(0, 2500))
    return {
        "ma_truong": (school, draw(st.sampled_from([school, int(school)]))),
        "khoi_lop": (grade, draw(st.sampled_from([grade, unicodedata.normalize("NFD", grade)]))),
        "so_hoc_sinh__tong_so": (boys + girls, draw(_count_cell(boys + girls))),
        "so_hoc_sinh__nam": (boys, draw(_count_cell(boys))),
        "so_hoc_sinh__nu": (girls, draw(_count_cell(girls))),
    }


@dataclass
class Case:
    content: bytes
    expected: list[dict[str, Any]]
    reason: str | None  # the quarantine reason, None when it must land
    undeclared: dict[str, int]


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@st.composite
def _cases(draw: st.DrawFn) -> Case:
    rows = draw(st.lists(_pupil_row(), max_size=6))
    mutations = draw(st.sets(st.sampled_from(MUTATIONS), max_size=3))
    two_level = draw(st.booleans())
    dropped: set[str] = set()
    if "drop_optional" in mutations:
        dropped.add(draw(st.sampled_from([c.name for c in COLUMNS if not c.required])))
    if "drop_required" in mutations:
        dropped.add(draw(st.sampled_from([c.name for c in COLUMNS if c.required])))
    kept = [c for c in COLUMNS if c.name not in dropped]
    singles: list[list[Column | None]] = [[c] for c in kept if c.sub is None]
    group: list[Column | None] = [c for c in kept if c.sub is not None]
    if "unknown_column" in mutations:
        singles.append([None])  # "Ghi chú", a column no declaration has
    # Two levels: "Số học sinh" over its sub-columns, kept together; one level: side by side.
    units = [*singles, group] if two_level else [*singles, *([c] for c in group)]
    if "reorder" in mutations:
        units = draw(st.permutations(units))
        units = [draw(st.permutations(unit)) for unit in units]

    def spell(text: str) -> str:
        if "capitals" in mutations:
            text = text.upper()
        if "nfd" in mutations:
            text = unicodedata.normalize("NFD", text)
        return text

    workbook = Workbook()
    assert workbook.active is not None
    workbook.remove(workbook.active)
    undeclared: dict[str, int] = {}
    if "unknown_sheet" in mutations:
        workbook.create_sheet("Hướng dẫn")["A1"] = "Nhập số liệu vào sheet tổng hợp"
        undeclared["Hướng dẫn"] = 1
    names = ["HocSinh", "Tổng hợp HK1", "TH HK2", "TỔNG HỢP hk1", "tổng hợp cuối kỳ"]
    title = draw(st.sampled_from(names))
    if "undeclared_sheet_name" in mutations:
        title = "Sheet1"
    sheet = workbook.create_sheet(unicodedata.normalize("NFD", title))
    for r in range(1, draw(st.integers(0, 3)) + 1):
        sheet.cell(row=r, column=1, value=f"BÁO CÁO SỐ HỌC SINH ({r})")
    top = sheet.max_row + 1 if sheet.max_row > 1 or sheet["A1"].value else 1
    col = 1
    order: list[Column | None] = []
    for unit in units:
        if two_level and len(unit) and unit[0] is not None and unit[0].sub is not None:
            sheet.cell(row=top, column=col, value=spell(GROUP))
            sheet.merge_cells(
                start_row=top, start_column=col, end_row=top, end_column=col + len(unit) - 1
            )
            for offset, column in enumerate(unit):
                assert column is not None and column.sub is not None
                sheet.cell(row=top + 1, column=col + offset, value=spell(column.sub))
        else:
            for offset, column in enumerate(unit):
                label = "Ghi chú" if column is None else draw(st.sampled_from(column.spellings))
                sheet.cell(row=top, column=col + offset, value=spell(label))
                if two_level:
                    sheet.merge_cells(
                        start_row=top,
                        start_column=col + offset,
                        end_row=top + 1,
                        end_column=col + offset,
                    )
        order += unit
        col += len(unit)
    first = top + (2 if two_level else 1)
    for r, row in enumerate(rows, start=first):
        for c, column in enumerate(order, start=1):
            value = (
                draw(st.sampled_from([None, "mới", "sáp nhập"]))
                if column is None
                else row[column.name][1]
            )
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    content = _save(workbook)

    expected = [
        {c.name: (None if c.name in dropped else row[c.name][0]) for c in COLUMNS} for row in rows
    ]
    reason = None
    if "truncate" in mutations:
        content = content[: draw(st.integers(0, len(content) - 1))]
        reason = "corrupt_workbook"
    elif "undeclared_sheet_name" in mutations:
        reason = "no_declared_sheet"
    elif dropped & {c.name for c in COLUMNS if c.required}:
        reason = "missing_columns"
    return Case(content, expected, reason, undeclared)


@settings(
    deadline=None, database=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow]
)
@given(_cases())
def test_a_workbook_lands_its_values_or_is_quarantined_whole(case: Case) -> None:
    source = _source()
    assert source.files is not None
    new = _NewFile("export.xlsx", Path("export.xlsx"), list(source.tables))
    outcome = _decode(new, "sha", case.content, source.files, "run")
    if case.reason is not None:
        assert isinstance(outcome, UnreadableFile)
        assert outcome.reason == case.reason, outcome.detail
        return
    assert not isinstance(outcome, UnreadableFile), outcome.detail
    assert outcome.undeclared == case.undeclared
    pupils = outcome.tables["hoc_sinh"]
    assert pupils.num_rows == len(case.expected)
    if not case.expected:
        return
    result = apply_contract(source.table("hoc_sinh"), pupils, KEY)
    assert result.rejected == []
    landed = [{c.name: row.get(c.name) for c in COLUMNS} for row in result.clean.to_pylist()]
    assert landed == case.expected
