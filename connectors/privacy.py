"""The privacy scanner: proof that no clear personal data got past landing.

Landing pseudonymises the columns a source declares ``pii``; this scan checks the result
independently, over everything that was written: every Parquet file of the lake (raw and
quarantine, including the ``raw_content`` bytes quarantine keeps) and the warehouse DuckDB files
(``build`` and ``serving``, opened read-only). It looks for values shaped like

* citizen ID numbers (CCCD): 12 digits, starting with 0 (the 3-digit province code 001–096);
* health-insurance card numbers (mã thẻ BHYT, 15 characters): 2 capital letters (card kind),
  1 digit (benefit level 1–5), 2 digits (province), 10 digits (end of the CCCD/BHXH number);
* Vietnamese mobile numbers: ``0`` or ``+84`` followed by a 3/5/7/8/9 and 8 digits;
* full person names: one of the common Vietnamese surnames below, followed by 1–3 capitalised
  words, as a whole value or a whole quoted/XML value inside raw content. The surname list is
  our own (it covers the simulator's name parts, which are Python code, not data we may read);
  a whole value such as "Lê Lợi" (a street named after a person) can therefore be reported —
  the scan errs on the side of a false positive.

Every pattern is anchored on non-alphanumeric context, so the digit runs inside a 64-hex-char
HMAC pseudonym, a UUID or a ``WQ-01-202507010100`` message id are not hits. Scanning is one
DuckDB query per lake table (all its files, grouped by file) and per warehouse table, using
RE2 regular expressions over the text columns: no Python loop over rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from iochub.duckdb_connect import connect_duckdb
from iochub.settings import Settings

SURNAMES = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý", "Châu", "Lâm", "Đoàn", "Trương", "Đinh", "Mai", "Tô", "Lưu",
    "Cao", "Thái", "Tạ", "Quách", "Lương", "Trịnh",
]  # fmt: skip

_EDGE_L = r"(^|[^0-9A-Za-z+])"
_EDGE_R = r"($|[^0-9A-Za-z])"
# kind → RE2 pattern whose group 2 is the personal value.
PATTERNS: dict[str, str] = {
    "citizen_id": _EDGE_L + r"(0\d{11})" + _EDGE_R,
    "insurance_card": _EDGE_L + r"([A-Z]{2}[1-5]\d{12})" + _EDGE_R,
    "phone": _EDGE_L + r"((?:0|\+84)[35789]\d{8})" + _EDGE_R,
    "person_name": r'(^|[">])((?:' + "|".join(SURNAMES) + r")(?:\s\p{Lu}\p{Ll}*){1,3})($|[\"<])",
}


@dataclass(frozen=True)
class Hit:
    """Clear personal data found: where, what kind, how many values, one masked sample."""

    location: str  # a Parquet file, or <database file>:<schema>.<table>
    column: str
    kind: str
    count: int
    sample: str  # masked


def mask(value: str) -> str:
    """Enough to recognise the shape, never the value: 087********34, N… V… A…"""
    if any(ch.isdigit() for ch in value):
        keep = 4 if value.startswith("+") else 3
        return value[:keep] + "*" * max(len(value) - keep - 2, 0) + value[-2:]
    return " ".join(word[0] + "…" for word in value.split())


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text_columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column → SQL text expression for every text or binary column of ``relation``."""
    columns: dict[str, str] = {}
    for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall():
        if name == "filename":
            continue
        if type_ == "VARCHAR":
            columns[name] = _q(name)
        elif type_ == "BLOB":
            # Raw content kept by quarantine: the bytes as UTF-8 text where they are text.
            columns[name] = f"try(decode({_q(name)}))"
    return columns


def _scan_relation(
    con: duckdb.DuckDBPyConnection, relation: str, group: str | None
) -> list[tuple[str | None, str, str, int, str]]:
    """(group value, column, kind, count, sample) per column and pattern with matches."""
    columns = _text_columns(con, relation)
    if not columns:
        return []
    selects = []
    labels = []
    for column, expr in columns.items():
        for kind, pattern in PATTERNS.items():
            # NFC so that a decomposed (NFD) name is found like a composed one.
            value = f"nfc_normalize({expr})" if kind == "person_name" else expr
            hit = f"regexp_matches({value}, {_lit(pattern)})"
            selects.append(f"count_if({hit})")
            selects.append(
                f"any_value(CASE WHEN {hit} THEN regexp_extract({value}, {_lit(pattern)}, 2) END)"
            )
            labels.append((column, kind))
    by = f"{group}, " if group else ""
    sql = f"SELECT {by}{', '.join(selects)} FROM {relation}"
    if group:
        sql += f" GROUP BY {group}"
    found = []
    for row in con.execute(sql).fetchall():
        key = row[0] if group else None
        values = row[1:] if group else row
        for index, (column, kind) in enumerate(labels):
            count, sample = values[2 * index], values[2 * index + 1]
            if count:
                found.append((key, column, kind, int(count), mask(str(sample))))
    return found


def lake_tables(settings: Settings) -> dict[Path, list[Path]]:
    """Parquet files of the lake grouped by table folder (raw/<source>/<table>,
    quarantine/<source>): files of one folder share (nearly) one schema."""
    groups: dict[Path, list[Path]] = defaultdict(list)
    for root, depth in ((settings.raw_dir, 2), (settings.quarantine_dir, 1)):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.parquet")):
            parts = path.relative_to(root).parts
            groups[root.joinpath(*parts[:depth])].append(path)
    return groups


def scan_lake(settings: Settings) -> list[Hit]:
    hits = []
    con = connect_duckdb()
    try:
        for files in lake_tables(settings).values():
            listing = "[" + ", ".join(_lit(str(f)) for f in files) + "]"
            relation = f"read_parquet({listing}, union_by_name=true, filename=true)"
            for file, column, kind, count, sample in _scan_relation(con, relation, "filename"):
                hits.append(Hit(str(file), column, kind, count, sample))
    finally:
        con.close()
    return hits


def scan_duckdb(path: Path) -> list[Hit]:
    """Every base table of one warehouse database file, opened read-only."""
    hits = []
    con = connect_duckdb(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            relation = f"{_q(schema)}.{_q(table)}"
            for _, column, kind, count, sample in _scan_relation(con, relation, None):
                hits.append(Hit(f"{path}:{schema}.{table}", column, kind, count, sample))
    finally:
        con.close()
    return hits


def scan(settings: Settings) -> tuple[list[Hit], list[str]]:
    """Hits over the lake and the warehouse files, and what could not be scanned (why)."""
    hits = scan_lake(settings)
    skipped = []
    for database in (settings.build_db, settings.serving_db):
        if not database.exists():
            continue
        try:
            hits += scan_duckdb(database)
        except duckdb.IOException as exc:  # locked by a running build: say so, do not guess
            skipped.append(f"{database}: {exc}")
    return hits, skipped
