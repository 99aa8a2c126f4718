"""XML 130 decoding: the price of parsing untrusted files safely.

The connector parses hospital files with defusedxml (no entity expansion); this compares it with
the standard library's parser on the same bytes, and measures base64 + inner-document decoding
over a file of 500 episodes built from the fixture's first file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.etree.ElementTree import fromstring as stdlib_fromstring

from defusedxml.ElementTree import fromstring as defused_fromstring

from connectors.formats.xml130 import decode_file
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


def decode_cases() -> list[tuple[str, str, Callable[[], int], int]]:
    content = _big_file()

    def stdlib_wrapper() -> int:
        stdlib_fromstring(content)
        return EPISODES

    def defused_wrapper() -> int:
        defused_fromstring(content)
        return EPISODES

    def full_decode() -> int:
        return len(decode_file(content, PATHS).tables["XML1"])

    return [
        ("xml130 wrapper parse (episodes)", "stdlib ElementTree", stdlib_wrapper, 5),
        ("xml130 wrapper parse (episodes)", "defusedxml (used)", defused_wrapper, 5),
        (
            "xml130 full decode (episodes)",
            "decode_file: wrapper + base64 + XML1/XML2",
            full_decode,
            5,
        ),
    ]
