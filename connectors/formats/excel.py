"""Excel workbooks (.xlsx) read into text records, one table per sheet.

Report workbooks are laid out for people, not programs, so this module finds the table in each
sheet before reading it:

- **Header row**: title rows (a merged title, a "reporting unit" line, a pasted note) come
  first and their number varies. The header is the first row, within the first
  ``HEADER_SEARCH_ROWS``, whose names match at least two of the declared column names; when
  nothing is declared (or nothing matches), the first row with at least two text cells and no
  number. A title row has one text cell, so it never qualifies.
- **Two-level headers**: a group label merged over sub-columns ("Số học sinh" over
  "Tổng số" / "Nam" / "Nữ"), single columns merged over both rows. In the file, only the first
  cell of a merge has a value. The row under the header is a sub-header when it is empty under
  some named header cell (a single column merged down) and has text under an empty one (a
  group's later sub-columns). Names are flattened to one ASCII snake-case name per column, the
  group and sub label joined by a double underscore: ``so_hoc_sinh__nam``, ``ma_truong``. Why
  ASCII snake case: these names are what the registry's contracts, dbt and SQL rules refer to;
  diacritics and spaces would have to be quoted everywhere, and ``__`` keeps the two levels
  apart (a label with spaces gives single underscores).
- **Values** come out as text: numbers as their shortest form ("12", "7.25"), dates ISO,
  text cells untouched ("1.234" stays "1.234": a count stored as text with Vietnamese
  thousands separators is the landing contract's cast to decide, not a guess here).
- **Blank rows and columns**: empty rows are skipped; columns with no header and no value are
  ignored; a value under no header lands as ``column_<n>`` so drift detection sees it.

Workbooks are opened ``read_only`` (the sheet XML is streamed, no cell objects or merged-cell
model are built): several times faster than the full model, which is why merges are recognised
from the empty cells they leave. One sheet's values are held in memory while it is read; report
workbooks are thousands of rows, not millions.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from openpyxl import load_workbook

from connectors.formats import UnreadableFile

Record = dict[str, str | None]
HEADER_SEARCH_ROWS = 20


def column_name(*labels: str) -> str:
    """``("Số học sinh", "Nam")`` → ``so_hoc_sinh__nam``: ASCII snake case per level."""
    parts = []
    for label in labels:
        # đ/Đ is a letter of its own, not d + a combining mark: NFKD would keep it.
        text = label.replace("đ", "d").replace("Đ", "D")
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
        if text:
            parts.append(text)
    return "__".join(parts)


def cell_text(value: Any) -> str | None:
    """A cell's value as the text landing receives."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel stores every number as a float: 12 must not become "12.0".
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@dataclass
class _Header:
    names: list[str]  # flattened name per column ("" for a column with no header)
    data_from: int  # index (0-based, in the row list) of the first data row


def _flatten(top: Sequence[Any], sub: Sequence[Any] | None) -> list[str]:
    names: list[str] = []
    group = ""
    for index, label in enumerate(top):
        below = sub[index] if sub is not None and index < len(sub) else None
        if _is_text(label):
            group = str(label).strip()
        elif sub is None or not _is_text(below):
            group = ""  # an empty column ends the group
        if sub is not None and _is_text(below):
            names.append(column_name(group, str(below).strip()))
        else:
            names.append(column_name(str(label).strip()) if _is_text(label) else "")
    return names


def _is_sub_header(top: Sequence[Any], row: Sequence[Any]) -> bool:
    width = max(len(top), len(row))
    top_cells = [top[i] if i < len(top) else None for i in range(width)]
    cells = [row[i] if i < len(row) else None for i in range(width)]
    if any(c is not None and not _is_text(c) for c in cells):
        return False  # a number or a date: a data row
    empty_under_named = any(
        _is_text(t) and c is None for t, c in zip(top_cells, cells, strict=True)
    )
    text_under_empty = any(t is None and _is_text(c) for t, c in zip(top_cells, cells, strict=True))
    return empty_under_named and text_under_empty


def _find_header(rows: list[tuple[Any, ...]], declared: Iterable[str]) -> _Header | None:
    expected = set(declared)
    candidates: list[_Header] = []
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = [c for c in row if _is_text(c)]
        if len(texts) < 2:
            continue  # a title, a note, a blank row
        nxt = rows[index + 1] if index + 1 < len(rows) else None
        two_level = nxt is not None and _is_sub_header(row, nxt)
        header = _Header(_flatten(row, nxt if two_level else None), index + (2 if two_level else 1))
        if expected and len(expected.intersection(header.names)) >= min(2, len(expected)):
            return header
        if all(c is None or _is_text(c) for c in row):
            candidates.append(header)
    # Nothing matched the contract (or none is declared): the first all-text row.
    return candidates[0] if candidates else None


def _sheet_records(
    rows: list[tuple[Any, ...]], declared: Iterable[str], where: str
) -> list[Record]:
    header = _find_header(rows, declared)
    if header is None:
        if not any(any(c is not None for c in row) for row in rows):
            return []  # an empty sheet
        raise UnreadableFile("no_header", f"{where}: no header row in the first rows")
    records: list[Record] = []
    for row in rows[header.data_from :]:
        values = [cell_text(c) for c in row]
        if not any(v is not None for v in values):
            continue
        record: Record = {name: None for name in header.names if name}
        for index, value in enumerate(values):
            name = header.names[index] if index < len(header.names) else ""
            if name:
                record[name] = value
            elif value is not None:
                record[f"column_{index + 1}"] = value
        records.append(record)
    return records


def read_workbook(
    content: bytes, sheets: dict[str, tuple[str | None, list[str]]]
) -> dict[str, list[Record]]:
    """Records per table from one workbook.

    ``sheets`` maps a table name to (its sheet name, None for the first sheet; its declared
    column names, which guide header detection). A sheet the workbook lacks gives no records
    (the report did not include it); an unreadable workbook raises ``UnreadableFile``.
    """
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # untrusted bytes: zip, XML and openpyxl errors alike
        raise UnreadableFile("corrupt_workbook", f"{type(exc).__name__}: {exc}") from exc
    try:
        result: dict[str, list[Record]] = {}
        for table, (sheet, declared) in sheets.items():
            if sheet is None:
                worksheet = workbook.worksheets[0] if workbook.worksheets else None
            else:
                worksheet = workbook[sheet] if sheet in workbook.sheetnames else None
            if worksheet is None:
                result[table] = []
                continue
            try:
                rows = [tuple(row) for row in worksheet.iter_rows(values_only=True)]
            except Exception as exc:  # sheet XML is parsed lazily, here
                raise UnreadableFile(
                    "corrupt_workbook", f"sheet {worksheet.title}: {type(exc).__name__}: {exc}"
                ) from exc
            result[table] = _sheet_records(rows, declared, f"sheet {worksheet.title}")
        return result
    finally:
        workbook.close()
