"""How the names people give things in files are compared with what the registry declares.

Three kinds of names, three comparisons:

- **Column headers** (``column_name``, ``header_key``): a header is flattened to ASCII snake case
  (``"Số học sinh" / "Nam"`` → ``so_hoc_sinh__nam``, the two levels joined by ``__``), and two
  spellings are the same column when their *keys* are equal: the flattened names with every run
  of separators as one ``_``. So a two-level header "Địa bàn" over "Mã tỉnh", a one-cell
  "Địa bàn - Mã tỉnh" and the declared spelling ``"Địa bàn / Mã tỉnh"`` are one column, whatever
  the case, diacritics (NFC or NFD, or none) and punctuation.
- **Labels** (``label_key``, ``label_matches``): sheet names and the first cell of a row
  ("Tổng hợp HK1", "Tổng cộng") are compared after NFC, case folding and whitespace runs as one
  space, against patterns where ``*`` is any text and ``?`` one character (nothing else is
  special: Excel forbids ``[ ] * ? / \\ :`` in sheet names, and a row label may hold brackets).

Pure standard library: the registry validates declarations with these functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache


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


def header_key(spelling: str) -> str:
    """What two spellings of one column have in common: ``"Địa bàn / Mã tỉnh"``,
    ``dia_ban__ma_tinh`` and ``"ĐỊA BÀN - MÃ TỈNH"`` all give ``dia_ban_ma_tinh``."""
    return re.sub(r"_+", "_", column_name(spelling))


def label_key(text: str) -> str:
    """A sheet name or row label as compared: NFC, case-folded, whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@cache
def _label_pattern(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in label_key(pattern):
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def label_matches(text: str, patterns: Iterable[str]) -> bool:
    """Whether ``text`` matches one of ``patterns`` (``*`` any text, ``?`` one character)."""
    key = label_key(text)
    return any(_label_pattern(p).fullmatch(key) for p in patterns)
