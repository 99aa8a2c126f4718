"""Delimited text and JSON files (CSV, JSON, JSON Lines) read into text records for landing.

Sector systems export these with whatever their software does: a UTF-8 byte-order mark or none,
Windows code pages, ``;`` or ``,`` separators (``;`` where the decimal comma is in use), CRLF line
ends, counts quoted with thousands separators. This module only undoes the *encoding* of a file:
every value comes out as the text the system wrote (JSON numbers as their literal text, nested
values as JSON), and the landing contract casts, NFC-normalises and checks it. A file that
cannot be decoded or parsed at all raises ``UnreadableFile`` so it is quarantined whole.

Text that is not UTF-8 is tried as Windows-1258 (Vietnamese Windows) before any detection: a
generic detector cannot tell it from other single-byte code pages on a short file and picks,
say, HP Roman-8, turning every name to garbage. A Unicode file cut short in the middle of a
character loses that character, not the whole file: the rows before the cut are intact. A CSV's
header is returned with its records (``read_csv_table``), so a file's columns can be checked
even when no data row follows.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import unicodedata
from typing import Any

from charset_normalizer import from_bytes

from connectors.formats import UnreadableFile

Record = dict[str, str | None]

_BOMS = (  # the byte-order mark and the codec of what follows it
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DELIMITERS = (";", ",", "\t", "|")


def _unicode(content: bytes, codec: str) -> str:
    """``content`` in a Unicode encoding, forgiving only a character cut at the very end: a file
    whose transfer was cut short at a character boundary cannot be told from a complete one
    either, the rows before the cut are intact, and the cut row is the contract's to judge."""
    try:
        return content.decode(codec)
    except UnicodeDecodeError as exc:
        if exc.end == len(content) and exc.reason in ("unexpected end of data", "truncated data"):
            return content[: exc.start].decode(codec)
        raise


# Windows-1258 writes five tones as combining marks after the vowel, and has these letters of
# its own; the detector below cannot tell it from other single-byte code pages on short files.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VIETNAMESE_LETTERS = frozenset("ăâđêôơưĂÂĐÊÔƠƯ")


def _windows_1258(content: bytes) -> str | None:
    """The text in Windows-1258, the code page of Vietnamese Windows, when it reads as
    Vietnamese in it: some Vietnamese letter or tone mark, and every tone mark after a vowel."""
    try:
        text = content.decode("cp1258")
    except UnicodeDecodeError:
        return None
    vietnamese = False
    for before, char in zip(" " + text, text, strict=False):
        if char in _TONE_MARKS:
            base = unicodedata.normalize("NFD", before)[:1].lower()
            if base not in ("a", "e", "i", "o", "u", "y"):
                return None
            vietnamese = True
        elif char in _VIETNAMESE_LETTERS:
            vietnamese = True
    return text if vietnamese else None


def decode_text(content: bytes, encoding: str | None = None) -> str:
    """The file's text: the declared encoding, else its BOM, else UTF-8, else detected."""
    if encoding:
        try:
            return content.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise UnreadableFile("undecodable", f"not valid {encoding}: {exc}") from exc
    for bom, codec in _BOMS:
        if content.startswith(bom):
            try:
                return _unicode(content[len(bom) :], codec)
            except UnicodeDecodeError as exc:
                raise UnreadableFile("undecodable", f"{codec} BOM but {exc}") from exc
    if b"\x00" in content:
        # No text encoding without a BOM puts NUL bytes in a CSV: this is a binary file.
        raise UnreadableFile("undecodable", "binary content (NUL bytes) in a text file")
    try:
        return _unicode(content, "utf-8")
    except UnicodeDecodeError:
        pass  # a legacy code page: Windows-1258 first (a Vietnamese province), else detected
    vietnamese = _windows_1258(content)
    if vietnamese is not None:
        return vietnamese
    best = from_bytes(content).best()
    if best is None:
        raise UnreadableFile("undecodable", "no text encoding fits the bytes")
    return str(best)


def sniff_delimiter(text: str) -> str:
    """The separator of the header line: the candidate that splits it into the most fields
    (outside quotes). ``csv.Sniffer`` guesses from data rows, where decimal commas and quoted
    thousands separators mislead it."""
    first = next((line for line in io.StringIO(text) if line.strip()), "")
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def read_csv(
    content: bytes, encoding: str | None = None, delimiter: str | None = None
) -> list[Record]:
    """Records of a CSV with a header row; empty cells become None, blank lines are skipped."""
    return read_csv_table(content, encoding, delimiter)[1]


def read_csv_table(
    content: bytes, encoding: str | None = None, delimiter: str | None = None
) -> tuple[list[str] | None, list[Record]]:
    """The header (None for an empty file) and the records of a CSV: the header is what the
    file's columns are checked on, also when no data row follows it."""
    text = decode_text(content, encoding)
    sep = delimiter or sniff_delimiter(text)
    # newline="" semantics: the csv module itself handles CRLF and newlines inside quotes.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(name.strip() for name in header):
            header = next(reader, None)  # blank lines above the header
        if header is None:
            return None, []
        # Header names in NFC: an NFD header is the same column (values are the contract's).
        names = [unicodedata.normalize("NFC", name.strip()) for name in header]
        records: list[Record] = []
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) > len(names):
                raise UnreadableFile(
                    "malformed_csv",
                    f"line {reader.line_num} has {len(row)} fields, the header {len(names)}",
                )
            record: Record = {name: None for name in names if name}
            for index, value in enumerate(row):
                if not value.strip():
                    continue
                # A value under no header (after a trailing separator) keeps its place.
                record[names[index] or f"column_{index + 1}"] = value
            records.append(record)
    except csv.Error as exc:
        raise UnreadableFile("malformed_csv", str(exc)) from exc
    return [name for name in names if name], records


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)  # nested object or list: kept as JSON text


def _record(item: Any, where: str) -> Record:
    if not isinstance(item, dict):
        raise UnreadableFile("not_records", f"{where} is a {type(item).__name__}, not an object")
    return {str(k): _as_text(v) for k, v in item.items()}


def _records_in(document: Any, record_path: str | None) -> list[Any]:
    """The list of records in a JSON document: at ``record_path`` (dotted) when declared, the
    document itself when it is a list, else the single list of objects it wraps
    (``{"data": [...]}``, ``{"records": [...]}``)."""
    if record_path and record_path != ".":
        node = document
        for key in record_path.split("."):
            if not isinstance(node, dict) or key not in node:
                has = (
                    f"an object with keys {', '.join(repr(k) for k in node)}"
                    if isinstance(node, dict)
                    else f"a {type(node).__name__}"
                )
                raise UnreadableFile(
                    "not_records", f"no {record_path!r} in the document: it is {has}"
                )
            node = node[key]
        document = node
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        lists = [v for v in document.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
        if "data" in document and isinstance(document["data"], list):
            return list(document["data"])
        raise UnreadableFile(
            "not_records", f"an object with {len(lists)} lists: declare record_path"
        )
    raise UnreadableFile("not_records", f"the document is a {type(document).__name__}")


def read_json(
    content: bytes, encoding: str | None = None, record_path: str | None = None
) -> list[Record]:
    text = decode_text(content, encoding)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile("malformed_json", str(exc)) from exc
    return [
        _record(item, f"record {i}") for i, item in enumerate(_records_in(document, record_path))
    ]


def read_jsonl(content: bytes, encoding: str | None = None) -> list[Record]:
    """One object per line; a line that is not JSON makes the whole file unreadable, so a file
    is never half-landed."""
    text = decode_text(content, encoding)
    records = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableFile("malformed_json", f"line {line_no}: {exc}") from exc
        records.append(_record(item, f"line {line_no}"))
    return records
