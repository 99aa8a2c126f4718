"""Delimited text and JSON files (CSV, JSON, JSON Lines) read into text records for landing.

Sector systems export these with whatever their software does: a UTF-8 byte-order mark or none,
Windows code pages, ``;`` or ``,`` separators (``;`` where the decimal comma is in use), CRLF line
ends, counts quoted with thousands separators. This module only undoes the *encoding* of a file:
every value comes out as the text the system wrote (JSON numbers as their literal text, nested
values as JSON), and the landing contract casts, NFC-normalises and checks it. A file that
cannot be decoded or parsed at all raises ``UnreadableFile`` so it is quarantined whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from typing import Any

from charset_normalizer import from_bytes

from connectors.formats import UnreadableFile

Record = dict[str, str | None]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DELIMITERS = (";", ",", "\t", "|")


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
                return content.decode(codec)
            except UnicodeDecodeError as exc:
                raise UnreadableFile("undecodable", f"{codec} BOM but {exc}") from exc
    if b"\x00" in content:
        # No text encoding without a BOM puts NUL bytes in a CSV: this is a binary file.
        raise UnreadableFile("undecodable", "binary content (NUL bytes) in a text file")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass  # a legacy code page (Windows-1258, TCVN3 …): let the detector decide
    best = from_bytes(content).best()
    if best is None:
        raise UnreadableFile("undecodable", "no text encoding fits the bytes")
    return str(best)


def sniff_delimiter(text: str) -> str:
    """The separator of the header line: the candidate that splits it into the most fields
    (outside quotes). ``csv.Sniffer`` guesses from data rows, where decimal commas and quoted
    thousands separators mislead it."""
    first = text.split("\n", 1)[0]
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def read_csv(
    content: bytes, encoding: str | None = None, delimiter: str | None = None
) -> list[Record]:
    """Records of a CSV with a header row; empty cells become None, blank lines are skipped."""
    text = decode_text(content, encoding)
    sep = delimiter or sniff_delimiter(text)
    # newline="" semantics: the csv module itself handles CRLF and newlines inside quotes.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return []
        names = [name.strip() for name in header]
        if not any(names):
            raise UnreadableFile("no_header", "the first line has no column names")
        records: list[Record] = []
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) > len(names):
                raise UnreadableFile(
                    "malformed_csv",
                    f"line {line_no} has {len(row)} fields, the header {len(names)}",
                )
            record: Record = {}
            for index, name in enumerate(names):
                value = row[index] if index < len(row) else ""
                record[name] = value if value.strip() else None
            records.append(record)
    except csv.Error as exc:
        raise UnreadableFile("malformed_csv", str(exc)) from exc
    return records


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
                raise UnreadableFile("not_records", f"no {record_path!r} in the document")
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
