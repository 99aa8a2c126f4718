"""Excel workbooks (.xlsx) read into text records, one table per sheet.

Report workbooks are laid out for people, not programs, so this module finds the table in each
sheet before reading it, guided by what the registry declares (``SheetSpec``):

- **Which sheets**: a table reads every sheet whose name matches its declared ``sheet`` or one
  of its ``sheets`` patterns ("Tổng hợp*"), compared after NFC and case folding
  (``connectors.formats.headers.label_matches``); with neither, the first sheet. A workbook in
  which no table finds a sheet is unreadable (``no_declared_sheet``, naming the sheets it has
  and those expected): recording it as landed with no rows would mean never reading it again.
  Sheets no table reads are reported (``FileRecords.undeclared``), not dropped silently.
- **Header row**: title rows (a merged title, a "reporting unit" line, a pasted note) come
  first and their number varies. The header is the first row, within the first
  ``HEADER_SEARCH_ROWS``, whose headers match at least two declared columns (by the column's
  name or one of its declared header spellings, compared by ``header_key``); when nothing is
  declared (or nothing matches), the first row with at least two text cells and no number. A
  title row has one text cell, so it never qualifies.
- **Two-level headers**: a group label merged over sub-columns ("Số học sinh" over
  "Tổng số" / "Nam" / "Nữ"), single columns merged over both rows. In the file, only the first
  cell of a merge has a value. The row under the header is a sub-header when it is empty under
  some named header cell (a single column merged down) and has text under an empty one (a
  group's later sub-columns). Names are flattened to one ASCII snake-case name per column, the
  group and sub label joined by a double underscore: ``so_hoc_sinh__nam``, ``ma_truong``. Why
  ASCII snake case: these names are what the registry's contracts, dbt and SQL rules refer to;
  diacritics and spaces would have to be quoted everywhere, and ``__`` keeps the two levels
  apart (a label with spaces gives single underscores). A header matching a declared column's
  spelling lands under the declared name.
- **Values** come out as text: numbers as their shortest form ("12", "7.25"), dates ISO,
  text cells untouched ("1.234" stays "1.234": a count stored as text with Vietnamese
  thousands separators is the landing contract's cast to decide, not a guess here).
- **Rows and columns that are not records** (``SheetLayout`` in the registry): a row whose
  first non-empty cell matches a ``skip_rows`` pattern (totals: "Tổng cộng") is skipped, one
  matching an ``end_rows`` pattern (a signature block) ends the table, and columns declared in
  ``ignore_columns`` ("STT", the row number) are not landed; a row with values only in those
  columns (a numbered template row left empty) is blank.
- **Blank rows and columns**: empty rows are skipped; columns with no header and no value are
  ignored; a value under no header lands as ``column_<n>`` so drift detection sees it.

What a sheet's header holds is returned with its records (``FileRecords.parts``), so the
``files`` kind can check the declared columns of every sheet before anything of the workbook
lands, and tell the sender which headers are missing.

Workbooks are opened ``read_only`` (the sheet XML is streamed, no cell objects or merged-cell
model are built): several times faster than the full model, which is why merges are recognised
from the empty cells they leave. One sheet's values are held in memory while it is read; report
workbooks are thousands of rows, not millions.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from openpyxl import load_workbook

from connectors.formats import FileRecords, Part, UnreadableFile
from connectors.formats.headers import column_name, header_key, label_matches

__all__ = ["HEADER_SEARCH_ROWS", "SheetSpec", "cell_text", "column_name", "read_workbook"]

Record = dict[str, str | None]
HEADER_SEARCH_ROWS = 20


@dataclass(frozen=True)
class SheetSpec:
    """How one table is found and read in a workbook (the ``files`` kind builds it from the
    table's registry declaration)."""

    # Sheet-name patterns (``*`` any text, ``?`` one character); none: the first sheet.
    patterns: tuple[str, ...] = ()
    # Header key (``header_key``) of every accepted spelling → the declared column name.
    columns: dict[str, str] = field(default_factory=dict)
    skip_rows: tuple[str, ...] = ()
    end_rows: tuple[str, ...] = ()
    ignore: frozenset[str] = frozenset()  # header keys of columns that are not data


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
    # Landed name per column: "" for a column with no header, None for an ignored one.
    names: list[str | None]
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
    if sub is not None:
        # Sub-columns beyond the top row's last cell (a group at the right edge).
        names += [
            column_name(group, str(c).strip()) if _is_text(c) else "" for c in sub[len(top) :]
        ]
    return names


def _resolve(flattened: list[str], spec: SheetSpec) -> list[str | None]:
    """Flattened header names as landed: a declared spelling under the declared name, an
    ignored column as None; a name seen twice keeps its first column."""
    names: list[str | None] = []
    seen: set[str] = set()
    for index, name in enumerate(flattened):
        if not name:
            names.append("")
            continue
        key = header_key(name)
        if key in spec.ignore:
            names.append(None)
            continue
        landed = spec.columns.get(key, name)
        if landed in seen:
            landed = f"column_{index + 1}"
        seen.add(landed)
        names.append(landed)
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


def _find_header(rows: list[tuple[Any, ...]], spec: SheetSpec) -> _Header | None:
    expected = set(spec.columns.values())
    candidates: list[_Header] = []
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = [c for c in row if _is_text(c)]
        if len(texts) < 2:
            continue  # a title, a note, a blank row
        nxt = rows[index + 1] if index + 1 < len(rows) else None
        two_level = nxt is not None and _is_sub_header(row, nxt)
        names = _resolve(_flatten(row, nxt if two_level else None), spec)
        header = _Header(names, index + (2 if two_level else 1))
        if expected and len(expected.intersection(names)) >= min(2, len(expected)):
            return header
        if all(c is None or _is_text(c) for c in row):
            candidates.append(header)
    # Nothing matched the contract (or none is declared): the first all-text row.
    return candidates[0] if candidates else None


@dataclass
class _Sheet:
    records: list[Record]
    columns: list[str] | None  # the header's landed names; None: no header row found
    blank: bool = False  # nothing in the sheet at all


def _sheet_records(rows: list[tuple[Any, ...]], spec: SheetSpec) -> _Sheet:
    header = _find_header(rows, spec)
    if header is None:
        blank = not any(any(c is not None for c in row) for row in rows)
        return _Sheet([], None, blank=blank)
    records: list[Record] = []
    for row in rows[header.data_from :]:
        values = [cell_text(c) for c in row]
        label = next((v for v in values if v is not None), None)
        if label is None:
            continue
        if spec.end_rows and label_matches(label, spec.end_rows):
            break
        if spec.skip_rows and label_matches(label, spec.skip_rows):
            continue
        record: Record = {name: None for name in header.names if name}
        filled = False
        for index, value in enumerate(values):
            name = header.names[index] if index < len(header.names) else ""
            if name is None or value is None:
                continue  # an ignored column (the row number), an empty cell
            filled = True
            record[name or f"column_{index + 1}"] = value
        if filled:
            records.append(record)
    return _Sheet(records, [name for name in header.names if name])


def _has_content(worksheet: Any) -> bool:
    try:
        return any(any(c is not None for c in row) for row in worksheet.iter_rows(values_only=True))
    except Exception:  # a sheet nobody reads: broken or not, it is reported, not read
        return True


def _quoted(names: Sequence[str], joint: str = ", ") -> str:
    return joint.join(f'"{name}"' for name in names)


def read_workbook(content: bytes, specs: dict[str, SheetSpec]) -> FileRecords:
    """Records per table from one workbook, with each read sheet's header (``parts``) and the
    sheets no table reads (``undeclared``).

    A declared sheet the workbook lacks gives no records (the report did not include it); a
    workbook with none of them, or unreadable, raises ``UnreadableFile``.
    """
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # untrusted bytes: zip, XML and openpyxl errors alike
        raise UnreadableFile("corrupt_workbook", f"{type(exc).__name__}: {exc}") from exc
    try:
        worksheets = list(workbook.worksheets)
        matched = {
            table: [w for w in worksheets if label_matches(w.title, spec.patterns)]
            if spec.patterns
            else worksheets[:1]
            for table, spec in specs.items()
        }
        if specs and not any(matched.values()):
            expected = "; ".join(
                f"{_quoted(spec.patterns, ' or ') or 'a first sheet'} ({table})"
                for table, spec in specs.items()
            )
            have = _quoted(workbook.sheetnames) if workbook.sheetnames else "none"
            raise UnreadableFile(
                "no_declared_sheet",
                f"none of the declared sheets is in the workbook: it has {have}; "
                f"expected {expected}",
            )
        result = FileRecords({})
        rows_of: dict[str, list[tuple[Any, ...]]] = {}
        for table, spec in specs.items():
            records: list[Record] = []
            for worksheet in matched[table]:
                title = worksheet.title
                if title not in rows_of:
                    try:
                        rows_of[title] = [tuple(r) for r in worksheet.iter_rows(values_only=True)]
                    except Exception as exc:  # sheet XML is parsed lazily, here
                        raise UnreadableFile(
                            "corrupt_workbook", f"sheet {title}: {type(exc).__name__}: {exc}"
                        ) from exc
                sheet = _sheet_records(rows_of[title], spec)
                records += sheet.records
                if not sheet.blank:
                    result.parts.append(Part(table, title, sheet.columns))
            result.tables[table] = records
        read = {w.title for sheets in matched.values() for w in sheets}
        for worksheet in worksheets:
            if worksheet.title not in read and _has_content(worksheet):
                result.undeclared[worksheet.title] = 1
        return result
    finally:
        workbook.close()
