"""Pseudonymisation at landing: personal data never reaches the lake in clear.

Each PII column declared in the registry is replaced before a batch is written: ``hmac`` with a
keyed HMAC-SHA256 (hex), ``drop`` removed, ``year`` cut to the year of a date. The key comes from
settings (``IOC_PII_KEY``); the same key gives the same pseudonym in every source and run, so
joins across systems still work while the clear value stays with the source.
"""

from __future__ import annotations

import hashlib
import hmac
import sys

from connectors.registry import PiiTreatment

Record = dict[str, str | None]

# What ``str.strip`` removes (every Unicode whitespace character): the SQL and Arrow paths of the
# landing contract trim exactly these, so a value with a stray tab or CR gets one pseudonym.
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def pseudonym(key: bytes, value: str) -> str:
    """Keyed HMAC-SHA256 of the trimmed value, as 64 hex characters."""
    return hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()


def apply_treatments(record: Record, treatments: dict[str, PiiTreatment], key: bytes) -> Record:
    """A copy of ``record`` with every declared PII column treated (empty values stay empty)."""
    out = dict(record)
    for column, treatment in treatments.items():
        value = out.get(column)
        if treatment is PiiTreatment.DROP:
            out.pop(column, None)
        elif value is None or not value.strip():
            out[column] = None
        elif treatment is PiiTreatment.HMAC:
            out[column] = pseudonym(key, value)
        elif treatment is PiiTreatment.YEAR:
            # XML 130 dates are yyyyMMdd or yyyyMMddHHmm; ISO dates also start with the year.
            out[column] = value.strip()[:4]
    return out
