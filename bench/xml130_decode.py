"""XML 130 decoding: the price of parsing untrusted files safely.

The connector parses hospital files with lxml under hardened options and refuses any DOCTYPE
(``connectors/formats/xml130.py``); the first group compares that with lxml's default parser on
the same bytes. The second measures our whole decode (wrapper, base64 of every table, XML1 and
XML2 records) over a file of 500 episodes built from the fixture's first file. The last group
sets our full decode against the floor of the job: a bare ``lxml.etree.iterparse`` pass over the
same file (wrapper streamed, XML2 payloads base64-decoded and streamed, drug lines counted,
nothing kept), in drug line items per second, so the ratio shows what safety and flat records
cost.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable

from lxml import etree

from connectors.formats.xml130 import _parse, _parser, decode_file
from simulator.fixtures import XML130_INBOX

PATHS = {"XML1": ".", "XML2": "DSACH_CHI_TIET_THUOC/CHI_TIET_THUOC"}
EPISODES = 500


def _big_file() -> bytes:
    text = (XML130_INBOX / "87001/20250805/GIAMDINHHS_87001_20250805_01.xml").read_text()
    hosos = re.findall(r"<HOSO>.*?</HOSO>", text, flags=re.S)
    repeated = "\n".join(hosos[i % len(hosos)] for i in range(EPISODES))
    body = re.sub(
        r"<DANHSACHHOSO>.*</DANHSACHHOSO>",
        f"<DANHSACHHOSO>{repeated}</DANHSACHHOSO>",
        text,
        flags=re.S,
    )
    return body.replace(
        "<SOLUONGHOSO>3</SOLUONGHOSO>", f"<SOLUONGHOSO>{EPISODES}</SOLUONGHOSO>"
    ).encode()


def _lxml_line_items(content: bytes) -> int:
    """Drug line items (XML2 ``CHI_TIET_THUOC``) in a wrapper, by the barest lxml pass."""
    items = 0
    for _, filehoso in etree.iterparse(io.BytesIO(content), tag="FILEHOSO"):
        if filehoso.findtext("LOAIHOSO") == "XML2":
            payload = base64.b64decode("".join((filehoso.findtext("NOIDUNGFILE") or "").split()))
            for _, line in etree.iterparse(io.BytesIO(payload), tag="CHI_TIET_THUOC"):
                items += 1
                line.clear()  # streaming: drop each line once counted
        filehoso.clear()
    return items


def decode_cases() -> list[tuple[str, str, Callable[[], int], int]]:
    content = _big_file()

    def plain_wrapper() -> int:
        etree.fromstring(content)
        return EPISODES

    def hardened_wrapper() -> int:
        _parse(content, _parser(), "wrapper")
        return EPISODES

    def full_decode() -> int:
        return len(decode_file(content, PATHS).tables["XML1"])

    def lxml_line_items() -> int:
        return _lxml_line_items(content)

    def decode_line_items() -> int:
        return len(decode_file(content, PATHS).tables["XML2"])

    # Both passes must see the same line items, or the ratio compares different work.
    assert lxml_line_items() == decode_line_items() > 0

    return [
        ("xml130 wrapper parse (episodes)", "lxml default parser", plain_wrapper, 5),
        ("xml130 wrapper parse (episodes)", "hardened lxml parser (used)", hardened_wrapper, 5),
        (
            "xml130 full decode (episodes)",
            "decode_file: wrapper + base64 + XML1/XML2",
            full_decode,
            5,
        ),
        (
            "xml130 drug line items (XML2 lines)",
            "bare lxml.etree.iterparse pass",
            lxml_line_items,
            5,
        ),
        (
            "xml130 drug line items (XML2 lines)",
            "decode_file (used): hardened lxml, flat text records",
            decode_line_items,
            5,
        ),
    ]
