"""Vietnamese text as Windows-1258 software writes it, for test inputs.

The code page has the letters â ê ô ă ơ ư đ of their own but writes the five tones as combining
marks after the vowel; Python's codec decodes such bytes but cannot encode precomposed toned
letters (ố, ự …), so tests build the bytes here.
"""

from __future__ import annotations

import unicodedata

TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def encode(text: str) -> bytes:
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            out.append(char.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        marks = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in marks if c not in TONES))
        out.append((base + "".join(c for c in marks if c in TONES)).encode("cp1258"))
    return b"".join(out)
