"""Decoding of XML 130 claim files (Decision 130/QĐ-BYT, amended by 4750 and 3176).

A hospital file is a ``GIAMDINHHS`` wrapper: facility code, creation date, and per episode
(``HOSO``) one ``FILEHOSO`` per table whose ``NOIDUNGFILE`` is that table's own XML document,
base64-encoded. This module turns one file into flat records per table (``XML1`` … ``XML15``),
every value kept as the text the facility sent; typing happens in dbt staging.

Files are untrusted input, parsed by lxml (libxml2) under options that refuse what makes XML
dangerous (``_parser``):

- ``resolve_entities=False``: no entity reference is replaced by its text, so nothing declared in
  a file can expand into a value (billion laughs) or pull a local file into one (XXE);
- ``no_network=True``, ``load_dtd=False``, ``dtd_validation=False``, ``attribute_defaults=False``:
  nothing is fetched or read but the bytes given, neither an external DTD nor an external
  entity, and no DTD adds anything to the tree. (``collect_ids=False`` is left out on purpose:
  with lxml 6.1 and libxml2 2.14 it makes libxml2 read the external DTD a file names.)
- and any document with a DOCTYPE is refused as ``malformed_xml`` (``_parse``): an XML 130 file
  never has one, and without one no entity but the predefined five can exist. While parsing,
  before that check, libxml2 still caps entity amplification and nesting depth.

``huge_tree=True`` lifts libxml2's 10 MB cap on one text node, which the base64 table of a long
inpatient stay can pass, and raises its depth cap from 256 to 2,048; neither is an amplification
(the tree is a fixed multiple of the file, already in memory). Comments and processing
instructions are dropped as ElementTree dropped them, so none is a field or splits a value.
Whitespace-only runs between elements are dropped too (``remove_blank_text``): libxml2 drops one
only where it would lead an element's text or be a tail, which stripping removes or no record
reads, and the parse is a fifth faster.

Faster than the defusedxml + ElementTree it replaces, with the same values
(``tests/unit/test_xml130.py`` checks digests of the old decoder's results): defusedxml drives
expat through ElementTree's pure-Python parser, a Python call per element start, end and text
run, where libxml2 builds the tree in C and the decoder only reads each field's tag and text.
Base64 goes through the strict C decoder first, and only a non-ASCII value pays for NFC.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

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


def _parser() -> etree.XMLParser:
    """A hardened parser (see the module docstring); one per file, since an lxml parser must not
    be used by two threads at once, and making one costs under a microsecond."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=True,
    )


def _clean(text: str | None) -> str | None:
    """A value as it lands: stripped, NFC, ``None`` when empty."""
    if text is None:
        return None
    value = text.strip()
    if not value.isascii():
        # Vietnamese text arrives in NFC or NFD depending on the exporting software.
        value = unicodedata.normalize("NFC", value)
    return value or None


def _child_text(parent: etree._Element, tag: str) -> str | None:
    """The value of ``parent``'s first ``tag`` child (``None`` when it has none)."""
    for child in parent.iterchildren(tag):
        return _clean(child.text)
    return None


def _parse(payload: bytes, parser: etree.XMLParser, what: str) -> etree._Element:
    try:
        root = etree.fromstring(payload, parser)
    except etree.XMLSyntaxError as exc:
        raise Xml130Error("malformed_xml", f"{what}: {exc}") from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise Xml130Error("malformed_xml", f"{what}: a DOCTYPE is not accepted")
    return root


def _payload(encoded: str, where: str) -> bytes:
    """The bytes of a ``NOIDUNGFILE``: whitespace anywhere is ignored, anything else but the
    base64 alphabet and end padding is an error."""
    try:
        # One unbroken base64 string, what exporters send, in a single pass: whatever the strict
        # decoder accepts, the check below accepts too and decodes to the same bytes.
        return binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Xml130Error("invalid_base64", f"{where}: {exc}") from exc


def _records(document: etree._Element, record_path: str) -> Iterator[Record]:
    nodes = [document] if record_path == "." else document.iterfind(record_path)
    for node in nodes:
        # ``_clean`` inlined for a plain ASCII value, the common case: this runs once per field.
        yield {
            child.tag: (text.strip() or None)
            if (text := child.text) is not None and text.isascii()
            else _clean(text)
            for child in node
        }


def decode_file(content: bytes, record_paths: dict[str, str]) -> Xml130File:
    """Decode a wrapper into records for the tables named in ``record_paths``.

    ``record_paths`` maps a table type (``XML1``) to the path of its records inside the decoded
    document (``.`` when the root element is the record). Tables not asked for are skipped but
    still base64-checked, so a corrupt file is never half-landed.
    """
    parser = _parser()
    root = _parse(content, parser, "wrapper")
    if root.tag != "GIAMDINHHS":
        raise Xml130Error("not_xml130", f"root element is <{root.tag}>, expected <GIAMDINHHS>")
    facility = _clean(root.findtext("THONGTINDONVI/MACSKCB"))
    created = _clean(root.findtext("THONGTINHOSO/NGAYLAP"))
    if not facility or not created:
        raise Xml130Error("missing_header", "THONGTINDONVI/MACSKCB or THONGTINHOSO/NGAYLAP empty")
    declared = _clean(root.findtext("THONGTINHOSO/SOLUONGHOSO"))
    result = Xml130File(
        facility_code=facility,
        created_on=created,
        declared_episodes=int(declared) if declared and declared.isdigit() else None,
        episodes=0,
        tables={table: [] for table in record_paths},
    )
    for episode_no, hoso in enumerate(root.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO"), 1):
        result.episodes += 1
        for filehoso in hoso.iterchildren("FILEHOSO"):
            table = (_child_text(filehoso, "LOAIHOSO") or "").upper()
            where = f"episode {episode_no}, {table or 'table without LOAIHOSO'}"
            payload = _payload(_child_text(filehoso, "NOIDUNGFILE") or "", where)
            if table not in record_paths:
                result.undeclared[table] = result.undeclared.get(table, 0) + 1
                continue
            records = result.tables[table]
            for record in _records(_parse(payload, parser, where), record_paths[table]):
                record["_facility_code"] = facility
                # The export day: nothing in the file can have happened after it.
                record["_file_created_on"] = created
                records.append(record)
    if result.declared_episodes is not None and result.declared_episodes != result.episodes:
        raise Xml130Error(
            "episode_count_mismatch",
            f"SOLUONGHOSO says {result.declared_episodes}, file carries {result.episodes}",
        )
    return result
