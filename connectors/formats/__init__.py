"""File formats the ``files`` kind reads: each turns one file into records per table."""

from __future__ import annotations

from dataclasses import dataclass, field

Record = dict[str, str | None]


@dataclass
class Part:
    """A part of a file that feeds a table (a sheet of a workbook; the whole file for CSV and
    JSON) and the columns its header gave, under their declared names: what the ``files`` kind
    checks against the table's declared columns before anything of the file lands."""

    table: str
    sheet: str | None  # the sheet's name; None for a format without sheets
    columns: list[str] | None  # None: no header row could be found


@dataclass
class FileRecords:
    """What a format read from one file: records per declared table, and what it skipped."""

    tables: dict[str, list[Record]]
    # Parts of the file no table declares (XML 130 table types, …) with how many were seen:
    # reported in the manifest, never dropped without a word.
    undeclared: dict[str, int] = field(default_factory=dict)
    # The header of every part read (formats with headers); a table with records and no part
    # is checked on its records' keys.
    parts: list[Part] = field(default_factory=list)


class UnreadableFile(Exception):
    """A file that cannot be read into records at all; ``reason`` is machine-readable."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[UnreadableFile], tuple[str, str]]:
        # Rebuilt from both fields when it crosses from a decoding process.
        return (type(self), (self.reason, self.detail))
