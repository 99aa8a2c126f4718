"""Decoding of XML 130 claim files (Decision 130/QĐ-BYT, amended by 4750 and 3176).

A hospital file is a ``GIAMDINHHS`` wrapper: facility code, creation date, and per episode
(``HOSO``) one ``FILEHOSO`` per table whose ``NOIDUNGFILE`` is that table's own XML document,
base64-encoded. This module turns one file into flat records per table (``XML1`` … ``XML15``),
every value kept as the text the facility sent; typing happens in dbt staging. Files are
untrusted input, so XML is parsed with defusedxml (no entity expansion, no external fetches).
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

Record = dict[str, str | None]


class Xml130Error(Exception):
    """A file that cannot be decoded; ``reason`` is a stable machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Xml130File:
    """One decoded wrapper: its header and the records of each table it carries."""

    facility_code: str
    created_on: str
    declared_episodes: int | None
    episodes: int
    tables: dict[str, list[Record]] = field(default_factory=dict)
    # Table types present in the file but not asked for, with the number of documents of each.
    undeclared: dict[str, int] = field(default_factory=dict)


def _text(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    # Vietnamese text arrives in NFC or NFD depending on the exporting software.
    value = unicodedata.normalize("NFC", element.text.strip())
    return value or None


def _parse(payload: bytes | str, what: str) -> Element:
    try:
        return fromstring(payload)
    except (ParseError, DefusedXmlException) as exc:
        raise Xml130Error("malformed_xml", f"{what}: {exc}") from exc


def _records(document: Element, record_path: str) -> Iterator[Record]:
    nodes = [document] if record_path == "." else document.findall(record_path)
    for node in nodes:
        yield {child.tag: _text(child) for child in node}


def decode_file(content: bytes, record_paths: dict[str, str]) -> Xml130File:
    """Decode a wrapper into records for the tables named in ``record_paths``.

    ``record_paths`` maps a table type (``XML1``) to the path of its records inside the decoded
    document (``.`` when the root element is the record). Tables not asked for are skipped but
    still base64-checked, so a corrupt file is never half-landed.
    """
    root = _parse(content, "wrapper")
    if root.tag != "GIAMDINHHS":
        raise Xml130Error("not_xml130", f"root element is <{root.tag}>, expected <GIAMDINHHS>")
    facility = _text(root.find("THONGTINDONVI/MACSKCB"))
    created = _text(root.find("THONGTINHOSO/NGAYLAP"))
    if not facility or not created:
        raise Xml130Error("missing_header", "THONGTINDONVI/MACSKCB or THONGTINHOSO/NGAYLAP empty")
    declared = _text(root.find("THONGTINHOSO/SOLUONGHOSO"))
    result = Xml130File(
        facility_code=facility,
        created_on=created,
        declared_episodes=int(declared) if declared and declared.isdigit() else None,
        episodes=0,
        tables={table: [] for table in record_paths},
    )
    for episode_no, hoso in enumerate(root.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO"), 1):
        result.episodes += 1
        for filehoso in hoso.iterfind("FILEHOSO"):
            table = (_text(filehoso.find("LOAIHOSO")) or "").upper()
            encoded = _text(filehoso.find("NOIDUNGFILE")) or ""
            where = f"episode {episode_no}, {table or 'table without LOAIHOSO'}"
            try:
                payload = base64.b64decode("".join(encoded.split()), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise Xml130Error("invalid_base64", f"{where}: {exc}") from exc
            if table not in record_paths:
                result.undeclared[table] = result.undeclared.get(table, 0) + 1
                continue
            document = _parse(payload, where)
            for record in _records(document, record_paths[table]):
                record["_facility_code"] = facility
                # The export day: nothing in the file can have happened after it.
                record["_file_created_on"] = created
                result.tables[table].append(record)
    if result.declared_episodes is not None and result.declared_episodes != result.episodes:
        raise Xml130Error(
            "episode_count_mismatch",
            f"SOLUONGHOSO says {result.declared_episodes}, file carries {result.episodes}",
        )
    return result
