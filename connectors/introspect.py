"""What ``ioc sources new --from-db / --from-file / --from-url`` guesses, and the fixtures that
the tests it scaffolds land from.

Introspection reads a live database (SQLAlchemy's inspector: columns, types, NOT NULL, primary
key, comments; then a sample of rows), a sample file (CSV, JSON, JSON lines, Excel, read by the
``files`` kind's own readers) or one page of a JSON API (httpx), and guesses per table:

- **types** from the database's types, or from the sampled values (every value of a column must
  parse: ISO dates and timestamps, ``dd/mm/yyyy`` dates with their ``format``, integers without a
  leading zero, decimals, true/false); anything else is a string;
- **required** from NOT NULL (a sample proves nothing: files and APIs get ``required`` on the
  key only);
- **the primary key** from the database; without one, a unique index, else a column whose
  sampled values are all present and distinct — and then it says so, for the engineer to
  confirm: a guessed key is never written without a TODO;
- **an incremental cursor**: a date/timestamp column named like updated/modified/last_*/
  ngay_cap_nhat. No lag window (see docs/adding-a-source.md);
- **personal data** by column name (Vietnamese and English) and by value, with the patterns
  ``ioc privacy scan`` itself searches for (``connectors.privacy.PATTERNS``: CCCD, BHYT card,
  phone, person names), so a column the scaffold misses is one the scan would flag: names and
  numbers ``hmac``, addresses ``drop``, birth dates ``year``;
- **admin codes**: a text column whose sampled values are (almost) all codes of the national
  admin units in either structure (``connectors.contract.admin_codes``) → ``admin_code: true``.

The second half builds test fixtures from a *declaration* (not from the live system): rows that
respect each column's type, code list, range and admin-code flag, written as a SQLite database,
as files of the declared format, or served by a local HTTP server for a ``rest`` source. The
tests ``ioc sources new`` writes land from these, never from the demo province.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fnmatch import fnmatch
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

from connectors.formats.headers import header_key
from connectors.registry import ColumnSpec, ColumnType, PiiTreatment, Source, TableSpec

SAMPLE_ROWS = 200  # rows read per table to guess from
ADMIN_SHARE = 0.9  # share of sampled values that must be admin codes
CONNECT_TIMEOUT_S = 10

# --- Guessing, one column at a time ------------------------------------------------------------

# Personal data by column name: the name's header key (ASCII snake case, "Số điện thoại" →
# so_dien_thoai) with underscores removed, searched for these fragments, first match wins.
# Order matters: an email address is an email (hmac), not an address (drop).
_ID_NAMES = (
    "cccd", "cmnd", "citizenid", "nationalid", "cancuoc", "sogiayto", "idcard", "passport",
    "hochieu", "masothue", "taxcode",
)  # fmt: skip
_PERSON_NAMES = (
    "hoten", "hovaten", "fullname", "firstname", "lastname", "surname", "personname",
    "patientname", "tenbenhnhan", "tennguoi", "tencongdan", "tenchuho", "chuhoso",
    "applicantname", "ownername", "contactname", "nguoixuly", "nguoinop", "nguoiky",
)  # fmt: skip
_PII_NAMES: list[tuple[str, PiiTreatment, tuple[str, ...]]] = [
    ("birth date", PiiTreatment.YEAR, ("ngaysinh", "birthdate", "dateofbirth")),
    ("email", PiiTreatment.HMAC, ("email", "thudientu")),
    ("citizen ID", PiiTreatment.HMAC, _ID_NAMES),
    (
        "health insurance card",
        PiiTreatment.HMAC,
        ("bhyt", "bhxh", "insurancecard", "insuranceno", "insurancenumber"),
    ),
    ("phone number", PiiTreatment.HMAC, ("dienthoai", "phone", "mobile", "didong")),
    ("address", PiiTreatment.DROP, ("diachi", "address", "noio", "thuongtru", "tamtru")),
    ("person's name", PiiTreatment.HMAC, _PERSON_NAMES),
]
# A column named exactly one of these is a person's name too ("ten" alone is, "ten_don_vi" not).
_PII_EXACT_NAMES = {"ten", "ho", "name_of_person"}

# What ``connectors.privacy.PATTERNS`` finds in a value → the column's treatment.
_PII_PATTERN_WORDS = {
    "citizen_id": "CCCD numbers (12 digits)",
    "insurance_card": "BHYT card numbers",
    "phone": "phone numbers",
    "person_name": "person names",
}

_CURSOR_NAME = re.compile(
    r"(^|_)(updated|modified|changed|last_?(updated|modified|changed|update|change)?|"
    r"ngay_cap_nhat|thoi_gian_cap_nhat|cap_nhat|ngay_sua|thoi_gian_sua|ngay_thay_doi)(_|$)"
)
_ADMIN_NAME = re.compile(
    r"(^|_)(ma_?tinh|ma_?huyen|ma_?xa|ma_?phuong|tinh|huyen|xa|phuong|province|district|"
    r"commune|ward|admin|dvhc|ma_?dv|dia_?ban|ma_?dbhc)(_|$)"
)
_KEY_NAME = re.compile(r"^(id|ma|code|key|stt_?id)$|(_id|_code|_key|_ma)$|^(ma|so|id)_")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_VN_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
_INTEGER = re.compile(r"^[-+]?(0|[1-9]\d*)$")
_DECIMAL = re.compile(r"^[-+]?\d+[.,]\d+$")
_BOOLEANS = {"true", "false", "có", "không", "yes", "no"}


@dataclass
class ColumnGuess:
    """One column as it will be declared, and why."""

    name: str  # the declared name: the source's own (sql, rest) or the header key (files)
    type: ColumnType = ColumnType.STRING
    required: bool = False
    title: str = ""  # the column comment, or the name the source uses
    format: str | None = None
    future: bool = True
    admin_code: bool = False
    pii: PiiTreatment | None = None
    notes: list[str] = field(default_factory=list)  # what was guessed, for the engineer
    pii_notes: list[str] = field(default_factory=list)  # why it is personal data
    # One matching value, masked as `ioc privacy scan` masks it: printed, never written.
    pii_sample: str | None = None


@dataclass
class TableGuess:
    name: str  # the lake table's name
    title: str
    locator: dict[str, str]  # table / query / pattern / sheet / endpoint
    columns: list[ColumnGuess]
    primary_key: list[str] = field(default_factory=list)
    key_from: Literal["database", "guessed", "none"] = "none"
    key_note: str = ""
    cursor: str | None = None
    cursor_note: str = ""
    sampled: int = 0
    body: dict[str, str] = field(default_factory=dict)  # rest: fixed query parameters

    def column(self, name: str) -> ColumnGuess:
        return next(c for c in self.columns if c.name == name)


@dataclass
class Introspection:
    """Everything ``ioc sources new --from-*`` learnt, ready to be rendered."""

    kind: Literal["sql", "files", "rest"]
    origin: str  # what was read, without a password
    default: str  # the connection's default (no password)
    password_removed: bool = False
    file_format: str | None = None
    records_path: str = "data"
    pagination: dict[str, Any] = field(default_factory=lambda: {"style": "none"})
    since_param: str | None = None  # the API's "changed since" filter, seen in the sample URL
    tables: list[TableGuess] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class IntrospectionError(Exception):
    """The database, file or URL cannot be read, or holds no table."""


def name_key(name: str) -> str:
    """A column name as words in snake case: camelCase split first (``NgayCapNhat`` →
    ``ngay_cap_nhat``), then the header key (ASCII, diacritics and punctuation removed)."""
    return header_key(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name))


def pii_by_name(name: str) -> tuple[PiiTreatment, str] | None:
    """The treatment a column's name calls for, and what it looks like (None: no hint)."""
    key = name_key(name)
    compact = key.replace("_", "")
    if key in _PII_EXACT_NAMES:
        return PiiTreatment.HMAC, "person's name"
    for what, treatment, fragments in _PII_NAMES:
        if any(fragment in compact for fragment in fragments):
            return treatment, what
    # Abbreviations, as words of their own only ("do_bao_phu" holds "dob", and is no birth date).
    words = key.split("_")
    if "dob" in words:
        return PiiTreatment.YEAR, "birth date"
    if "sdt" in words:  # số điện thoại
        return PiiTreatment.HMAC, "phone number"
    return None


@cache
def _duck() -> Any:
    from iochub.duckdb_connect import connect_duckdb

    return connect_duckdb()


def pii_by_values(values: Sequence[str]) -> tuple[str, int, str] | None:
    """The personal-data pattern of ``ioc privacy scan`` most sampled values match: its kind,
    how many values match and one of them masked (None: no value matches any)."""
    from connectors.privacy import PATTERNS, mask

    texts = [v for v in values if v]
    if not texts:
        return None
    best: tuple[str, int, str] | None = None
    for kind, pattern in PATTERNS.items():
        value = "nfc_normalize(v)" if kind == "person_name" else "v"
        row = (
            _duck()
            .execute(
                f"SELECT count_if(regexp_matches({value}, $p)), "
                f"any_value(regexp_extract({value}, $p, 2)) FILTER (regexp_matches({value}, $p)) "
                "FROM (SELECT unnest($values::VARCHAR[]) AS v)",
                {"p": pattern, "values": texts},
            )
            .fetchone()
        )
        count = int(row[0]) if row else 0
        if row and count and (best is None or count > best[1]):
            best = (kind, count, mask(str(row[1])))
    return best


def admin_share(values: Sequence[str]) -> float:
    """The share of non-empty sampled values that are admin-unit codes (0 when none are
    digits-only: names and free text are never codes)."""
    from connectors.contract import admin_codes

    texts = [v.strip() for v in values if v and v.strip()]
    if not texts or not all(t.isdigit() for t in texts):
        return 0.0
    known = admin_codes()
    return sum(t in known for t in texts) / len(texts)


def type_from_values(values: Sequence[str]) -> tuple[ColumnType, str | None]:
    """The declared type (and strptime format) every non-empty sampled text value fits."""
    texts = [v.strip() for v in values if v is not None and v.strip()]
    if not texts:
        return ColumnType.STRING, None
    if all(_ISO_DATE.match(t) for t in texts):
        return ColumnType.DATE, None
    if all(_ISO_TIMESTAMP.match(t) or _ISO_DATE.match(t) for t in texts):
        return ColumnType.TIMESTAMP, None
    if all(_VN_DATE.match(t) for t in texts):
        return ColumnType.DATE, "%d/%m/%Y"
    if all(_INTEGER.match(t) for t in texts):
        # Beyond 15 digits a number is an identifier (a BHYT or bank number), not a quantity.
        if all(len(t.lstrip("+-")) <= 15 for t in texts):
            return ColumnType.INTEGER, None
        return ColumnType.STRING, None
    if all(_INTEGER.match(t) or _DECIMAL.match(t) for t in texts):
        # A comma is a decimal comma only when no value also uses a dot (the contract reads
        # "1.234,5" as Vietnamese notation): either way the contract casts both.
        return ColumnType.DECIMAL, None
    if all(t.lower() in _BOOLEANS for t in texts):
        return ColumnType.BOOLEAN, None
    return ColumnType.STRING, None


def type_from_sql(sql_type: Any) -> ColumnType:
    """A SQLAlchemy type (as its inspector reflects it) → the declared type."""
    from sqlalchemy import types as t

    if isinstance(sql_type, t.Boolean):
        return ColumnType.BOOLEAN
    if type(sql_type).__name__ == "TINYINT" and getattr(sql_type, "display_width", None) == 1:
        return ColumnType.BOOLEAN  # MySQL's BOOLEAN is TINYINT(1)
    if isinstance(sql_type, t.Integer):
        return ColumnType.INTEGER
    if isinstance(sql_type, t.Float):  # not a Numeric in SQLAlchemy 2.1
        return ColumnType.DECIMAL
    if isinstance(sql_type, t.Numeric):
        return ColumnType.INTEGER if getattr(sql_type, "scale", None) == 0 else ColumnType.DECIMAL
    if isinstance(sql_type, t.DateTime):
        return ColumnType.TIMESTAMP
    if isinstance(sql_type, t.Date):
        return ColumnType.DATE
    return ColumnType.STRING  # text, enums, times, UUIDs, JSON, binary: landed as text


def is_cursor_name(name: str) -> bool:
    return bool(_CURSOR_NAME.search(name_key(name)))


def suggest_cursor(columns: Sequence[ColumnGuess]) -> tuple[str | None, str]:
    """The column to suggest as the incremental cursor, and the note explaining it (or why
    there is none)."""
    dated = [c for c in columns if c.type in (ColumnType.DATE, ColumnType.TIMESTAMP)]
    named = [c for c in dated if is_cursor_name(c.name) and c.pii is None]
    if not named:
        if dated:
            names = ", ".join(c.name for c in dated)
            return None, f"no date column is named like an update time ({names})"
        return None, "no date or timestamp column"
    # Timestamps before dates (finer), required before nullable (a NULL cursor is never read).
    named.sort(key=lambda c: (not c.required, c.type is not ColumnType.TIMESTAMP))
    chosen = named[0]
    note = (
        f"{chosen.name} looks like the time a row last changed: confirm the system sets it on "
        "every insert and update"
    )
    if not chosen.required:
        note += "; it is nullable, and a row whose cursor is NULL is never read incrementally"
    return chosen.name, note


def suggest_key(
    columns: Sequence[ColumnGuess], rows: Sequence[dict[str, Any]]
) -> tuple[list[str], str]:
    """A one-column key candidate from sampled rows: every value present and distinct, the
    column named like an id. Never final: the caller writes it with a TODO."""
    if not rows:
        return [], "no rows sampled: declare the primary key"
    candidates = []
    for column in columns:
        values = [r.get(column.name) for r in rows]
        if any(v is None or str(v).strip() == "" for v in values):
            continue
        if len({str(v).strip() for v in values}) != len(values):
            continue
        if column.type in (ColumnType.DECIMAL, ColumnType.BOOLEAN):
            continue
        named = bool(_KEY_NAME.search(name_key(column.name)))
        candidates.append((not named, column.pii is not None, column.name))
    if not candidates:
        return [], "no column is unique in the sample: declare the primary key"
    candidates.sort()
    _, _, name = candidates[0]
    return [name], f"{name} is unique in {len(rows)} sampled row(s): confirm it is the key"


def guess_column(
    name: str,
    values: Sequence[str | None],
    *,
    declared: ColumnType | None = None,
    required: bool = False,
    title: str | None = None,
) -> ColumnGuess:
    """Type, personal data and admin code of one column from its name and sampled values (as
    text); ``declared`` is the database's type, which only a text column's values refine."""
    texts = [v for v in values if v is not None and str(v).strip()]
    column = ColumnGuess(name, required=required, title=title or name)
    if declared is None or declared is ColumnType.STRING:
        guessed, fmt = type_from_values(texts)
        if declared is None:
            column.type, column.format = guessed, fmt
        elif guessed in (ColumnType.DATE, ColumnType.TIMESTAMP) and fmt is None:
            column.type = guessed
            column.notes.append(f"text holding ISO {guessed.value}s: declared {guessed.value}")
    else:
        column.type = declared
    by_name = pii_by_name(name)
    by_values = pii_by_values(texts)
    if by_name is not None:
        treatment, what = by_name
        if treatment is PiiTreatment.YEAR and column.type is ColumnType.STRING:
            # A birth date sent as text: still cut to its year (the text starts with it).
            column.pii_notes.append("sent as text: year keeps its first 4 characters")
        column.pii = treatment
        column.pii_notes.append(f"by name ({what})")
    if by_values is not None:
        kind, count, sample = by_values
        words = _PII_PATTERN_WORDS.get(kind, kind)
        share = f"{count}/{len(texts)} sampled values look like {words}"
        column.pii_sample = sample
        if column.pii is None:
            column.pii = PiiTreatment.HMAC
            column.pii_notes.append(f"by value: {share}")
        else:
            column.pii_notes.append(share)
    if column.pii is PiiTreatment.YEAR or (column.type is ColumnType.DATE and column.pii):
        column.future = False
    hinted = bool(_ADMIN_NAME.search(name_key(name)))
    if column.pii is None and (column.type is ColumnType.STRING or hinted):
        # A number column only when its name says code ("ma_tinh" 87): a count of 12 is
        # Lai Châu's province code too.
        codes = admin_share(texts)
        repeated = len(set(texts)) < len(texts)
        if codes >= ADMIN_SHARE and (hinted or repeated):
            column.admin_code = True
            note = f"admin code: {codes:.0%} of {len(texts)} sampled values are admin-unit codes"
            if column.type is not ColumnType.STRING:
                column.type, column.format = ColumnType.STRING, None
                note += " (declared string: a code is text, leading zeros matter)"
            column.notes.append(note)
    return column


def _finish_table(table: TableGuess, rows: Sequence[dict[str, Any]]) -> None:
    """Key (if the source gave none), cursor and the notes that go with them."""
    if not table.primary_key:
        table.primary_key, table.key_note = suggest_key(table.columns, rows)
        table.key_from = "guessed" if table.primary_key else "none"
    for name in table.primary_key:
        table.column(name).required = True
    table.cursor, table.cursor_note = suggest_cursor(table.columns)
    if table.cursor:
        cursor = table.column(table.cursor)
        cursor.future = False


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return None  # binary: never a pattern to match
    return str(value)


def lake_table_name(name: str, taken: Sequence[str] = ()) -> str:
    key = header_key(name) or "records"
    if not key[0].isalpha():
        key = f"t_{key}"
    unique, n = key, 2
    while unique in taken:
        unique, n = f"{key}_{n}", n + 1
    return unique


# --- Reading a database ------------------------------------------------------------------------


def strip_password(url: str) -> tuple[str, bool]:
    """``url`` without the password of its user part, and whether there was one."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, False
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (parts.username or "") + "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), True


def sqlalchemy_url(url: str) -> tuple[str, str]:
    """A connection value as the ``sql`` kind accepts it → (SQLAlchemy URL, the value to write
    as the connection's default: a SQLite file as an absolute ``sqlite://`` URL)."""
    from connectors.kinds.base import SourceUnavailable
    from connectors.kinds.sql import parse_database, sqlite_path

    try:
        db = parse_database(url)
    except SourceUnavailable as exc:
        raise IntrospectionError(str(exc)) from exc
    if db.dialect == "sqlite":
        path = sqlite_path(db).resolve()
        if not path.is_file():
            raise IntrospectionError(f"SQLite file {path} does not exist")
        return f"sqlite:///{path}", f"sqlite://{path}"
    rest = url.split("://", 1)[1]
    driver = "postgresql+psycopg" if db.dialect == "postgres" else "mysql+pymysql"
    return f"{driver}://{rest}", url


def introspect_database(
    url: str, tables: Sequence[str] = (), sample_rows: int = SAMPLE_ROWS
) -> Introspection:
    """Columns, keys and a sample of every table (or of ``tables``; ``schema.table`` for a
    PostgreSQL schema other than the default) of a live database."""
    import sqlalchemy as sa

    engine_url, default = sqlalchemy_url(url)
    default, removed = strip_password(default)
    shown = default
    intro = Introspection("sql", shown, default, password_removed=removed)
    # A server that does not answer fails in seconds, not at the driver's default (minutes).
    timeout = {} if engine_url.startswith("sqlite") else {"connect_timeout": CONNECT_TIMEOUT_S}
    engine = sa.create_engine(engine_url, connect_args=timeout)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            wanted: list[tuple[str | None, str]] = []
            if tables:
                for given in tables:
                    prefix, _, bare = given.rpartition(".")
                    wanted.append((prefix or None, bare))
            else:
                wanted = [(None, t) for t in inspector.get_table_names()]
            if not wanted:
                raise IntrospectionError(f"{shown}: the database has no table")
            taken: list[str] = []
            for schema, table_name in wanted:
                guess = _table_from_database(connection, inspector, schema, table_name, sample_rows)
                guess.name = lake_table_name(table_name, taken)
                taken.append(guess.name)
                intro.tables.append(guess)
    except sa.exc.NoSuchTableError as exc:
        raise IntrospectionError(f"{shown}: no table {exc}") from exc
    except sa.exc.SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IntrospectionError(f"{shown}: {first}") from exc
    finally:
        engine.dispose()
    return intro


def _table_from_database(
    connection: Any, inspector: Any, schema: str | None, table: str, sample_rows: int
) -> TableGuess:
    import sqlalchemy as sa

    reflected = inspector.get_columns(table, schema=schema)
    if not reflected:
        raise IntrospectionError(f"table {table} has no column (or does not exist)")
    query = sa.select(sa.text("*")).select_from(sa.table(table, schema=schema)).limit(sample_rows)
    result = connection.execute(query)
    names = list(result.keys())
    rows = [dict(zip(names, r, strict=True)) for r in result]
    columns = []
    for column in reflected:
        name = column["name"]
        values = [_text(r.get(name)) for r in rows]
        columns.append(
            guess_column(
                name,
                values,
                declared=type_from_sql(column["type"]),
                required=not column.get("nullable", True),
                title=(column.get("comment") or "").strip() or None,
            )
        )
    try:
        comment = (inspector.get_table_comment(table, schema=schema) or {}).get("text")
    except NotImplementedError:  # SQLite keeps no comments
        comment = None
    if schema:
        quoted = connection.dialect.identifier_preparer
        locator = {"query": f"SELECT * FROM {quoted.quote(schema)}.{quoted.quote(table)}"}
    else:
        locator = {"table": table}
    guess = TableGuess(table, (comment or "").strip() or table, locator, columns)
    guess.sampled = len(rows)
    key = (inspector.get_pk_constraint(table, schema=schema) or {}).get("constrained_columns")
    if key:
        guess.primary_key, guess.key_from = list(key), "database"
        guess.key_note = f"primary key ({', '.join(key)}) from the database"
    else:
        unique = [
            list(u["column_names"]) for u in inspector.get_unique_constraints(table, schema=schema)
        ] + [
            list(i["column_names"])
            for i in inspector.get_indexes(table, schema=schema)
            if i.get("unique") and all(i["column_names"])
        ]
        if unique:
            guess.primary_key, guess.key_from = unique[0], "guessed"
            guess.key_note = (
                f"the table has no primary key; unique ({', '.join(unique[0])}) could be it: "
                "confirm"
            )
    _finish_table(guess, [{k: _text(v) for k, v in r.items()} for r in rows])
    if guess.key_from != "database" and not guess.key_note.startswith("the table has no"):
        guess.key_note = "the table has no primary key; " + guess.key_note
    return guess


# --- Reading a sample file or an API page ------------------------------------------------------

FILE_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
FILE_FORMATS |= {".xlsx": "excel", ".xlsm": "excel"}


def _guess_records(
    name: str,
    title: str,
    locator: dict[str, str],
    records: Sequence[dict[str, str | None]],
    *,
    header_names: bool,
) -> TableGuess:
    """A table from records whose values are text: a file's or an API page's."""
    order: dict[str, None] = {}
    for record in records:
        order.update(dict.fromkeys(record))
    columns = []
    renamed: dict[str, str] = {}
    for original in order:
        declared = header_key(original) if header_names else original
        if not declared or declared in renamed.values():
            declared = original
        renamed[original] = declared
        values = [r.get(original) for r in records]
        columns.append(guess_column(declared, values, title=original))
    rows = [{renamed[k]: v for k, v in r.items()} for r in records]
    guess = TableGuess(name, title, locator, columns, sampled=len(records))
    _finish_table(guess, rows)
    return guess


def introspect_file(path: Path, sample_rows: int = SAMPLE_ROWS) -> Introspection:
    """A sample file of a drop folder: its format from the extension, one table (one per
    non-empty sheet of a workbook). The connection's default is the file's folder, and the
    pattern the files that look like it (same extension)."""
    from connectors.formats import UnreadableFile
    from connectors.formats.excel import SheetSpec, read_workbook
    from connectors.formats.tabular import read_csv_table, read_json, read_jsonl

    path = path.resolve()
    if not path.is_file():
        raise IntrospectionError(f"{path}: no such file")
    file_format = FILE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise IntrospectionError(
            f"{path.name}: a sample is .csv, .json, .jsonl or .xlsx ({', '.join(FILE_FORMATS)})"
        )
    folder = str(path.parent).replace("{", "{{").replace("}", "}}")
    intro = Introspection("files", str(path), folder, file_format=file_format)
    # "chi-tieu-2025-01.csv" is one of "chi-tieu-*.csv": a trailing period or number varies.
    fixed = re.sub(r"[-_ .]*\d[\d\-_ .]*$", "", path.stem)
    pattern = (f"{fixed}-*" if fixed and fixed != path.stem else "*") + path.suffix.lower()
    if fixed and fixed != path.stem and path.stem[len(fixed)] != "-":
        pattern = f"{fixed}{path.stem[len(fixed)]}*{path.suffix.lower()}"
    content = path.read_bytes()
    stem = lake_table_name(fixed or path.stem or "records")
    try:
        if file_format == "excel":
            from openpyxl import load_workbook

            workbook = load_workbook(io.BytesIO(content), read_only=True)
            titles = list(workbook.sheetnames)
            workbook.close()
            specs = {t: SheetSpec(patterns=(t,)) for t in titles}
            read = read_workbook(content, specs)
            taken: list[str] = []
            for title in titles:
                records = read.tables.get(title) or []
                if not records:
                    continue
                name = lake_table_name(title, taken)
                taken.append(name)
                locator = {"sheet": title}
                intro.tables.append(
                    _guess_records(name, title, locator, records[:sample_rows], header_names=True)
                )
        else:
            if file_format == "csv":
                records = read_csv_table(content)[1]
            elif file_format == "json":
                records = read_json(content)
            else:
                records = read_jsonl(content)
            locator = {"pattern": pattern}
            header_names = file_format == "csv"
            intro.tables.append(
                _guess_records(
                    stem, stem, locator, records[:sample_rows], header_names=header_names
                )
            )
    except UnreadableFile as exc:
        raise IntrospectionError(f"{path}: {exc}") from exc
    if not intro.tables:
        raise IntrospectionError(f"{path}: no record in the sample")
    intro.notes.append(
        f"files: every {pattern} file of {path.parent} is read; narrow files.pattern if the "
        "folder holds others"
    )
    return intro


def _records_path(payload: Any) -> str | None:
    """Where the list of records is in an API answer (dotted, '' for the answer itself)."""
    if isinstance(payload, list):
        return ""
    if not isinstance(payload, dict):
        return None
    for key, value in payload.items():
        if isinstance(value, list) and (not value or isinstance(value[0], dict)):
            return key
    for key, value in payload.items():
        if isinstance(value, dict):
            inner = _records_path(value)
            if inner:
                return f"{key}.{inner}"
    return None


_PAGE_PARAMS = ("page", "trang", "page_number", "pageNumber", "pageIndex")
_SIZE_PARAMS = ("page_size", "pageSize", "size", "limit", "per_page", "perPage")
_OFFSET_PARAMS = ("offset", "skip", "start")
# Query parameters that filter an API by change time, as header keys ("updatedSince" is
# "updated_since"): the rest kind sends the last watermark in it (rest.since_param).
_SINCE_PARAMS = (
    "since", "updated_since", "modified_since", "changed_since", "updated_after",
    "modified_after", "updated_from", "from_date", "tu_ngay", "cap_nhat_tu", "ngay_cap_nhat_tu",
)  # fmt: skip


def introspect_url(url: str, timeout: float = 30) -> Introspection:
    """One page of a JSON API: the connection's default is the URL's root, the endpoint its
    path; paging parameters in the URL's query are recognised, other parameters kept."""
    import httpx

    from connectors.kinds.rest import flatten

    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise IntrospectionError(f"{url}: {exc}") from exc
    if response.status_code in (401, 403):
        raise IntrospectionError(
            f"{url}: HTTP {response.status_code}: the API wants credentials; declare rest.auth "
            "by hand (token by reference, never in the file)"
        )
    if response.status_code >= 400:
        raise IntrospectionError(f"{url}: HTTP {response.status_code}")
    try:
        payload = response.json()
    except ValueError as exc:
        raise IntrospectionError(f"{url}: the answer is not JSON") from exc
    path = _records_path(payload)
    if path is None:
        raise IntrospectionError(f"{url}: no list of records found in the answer")
    found: Any = payload
    for key in [k for k in path.split(".") if k]:
        found = found[key]
    records = [flatten(r) if isinstance(r, dict) else {"value": str(r)} for r in found]
    if not records:
        raise IntrospectionError(f"{url}: the page holds no record to learn the columns from")
    parts = urlsplit(url)
    base, removed = strip_password(urlunsplit(parts._replace(path="", query="", fragment="")))
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    pagination: dict[str, Any] = {"style": "none"}
    page = next((p for p in _PAGE_PARAMS if p in query), None)
    offset = next((p for p in _OFFSET_PARAMS if p in query), None)
    size = next((p for p in _SIZE_PARAMS if p in query), None)
    if page or offset:
        pagination = {"style": "page" if page else "offset", "page_param": page or offset}
        if size:
            pagination["size_param"] = size
            if query[size].isdigit():
                pagination["size"] = int(query[size])
        if page and query[page].isdigit():
            pagination["first_page"] = int(query[page])
    since = next((p for p in query if name_key(p) in _SINCE_PARAMS), None)
    for used in (page, offset, size, since):
        query.pop(used or "", None)
    endpoint = parts.path or "/"
    intro = Introspection(
        "rest",
        url if not removed else base + endpoint + (f"?{parts.query}" if parts.query else ""),
        base.replace("{", "{{").replace("}", "}}"),
        password_removed=removed,
        records_path=path,
        pagination=pagination,
        since_param=since,
    )
    last = re.sub(r"\.\w+$", "", endpoint.rstrip("/").rsplit("/", 1)[-1])
    name = lake_table_name(last or "records")
    table = _guess_records(name, name, {"endpoint": endpoint}, records, header_names=False)
    table.body = query  # a GET table's body entries are sent as query parameters
    intro.tables.append(table)
    if pagination["style"] == "none":
        intro.notes.append(
            "rest: no paging parameter in the URL, so one request reads the whole endpoint; "
            "declare rest.pagination if the API pages"
        )
    intro.notes.append(
        "rest: without since_param every run reads the endpoint whole and lands it again; "
        "the staging model keeps the latest version of each key"
    )
    return intro


# --- Fixtures from a declaration (the scaffolded tests land from these) ------------------------

_FIXTURE_DAY = date(2025, 1, 1)
_SQLITE_TYPES = {
    ColumnType.STRING: "TEXT",
    ColumnType.INTEGER: "INTEGER",
    ColumnType.DECIMAL: "REAL",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
}


@cache
def _fixture_admin_codes() -> tuple[str, ...]:
    from connectors.contract import admin_codes

    return tuple(sorted(admin_codes(), key=lambda c: (len(c), c))[:50])


def _fixture_value(name: str, spec: ColumnSpec, index: int) -> object:
    """The ``index``-th generated value of a column: valid under its contract, distinct per
    row for every type but booleans and code lists."""
    if spec.codes:
        return spec.codes[index % len(spec.codes)]
    if spec.admin_code:
        codes = _fixture_admin_codes()
        return codes[index % len(codes)]
    if spec.type is ColumnType.INTEGER:
        whole = (int(spec.min) if spec.min is not None else 1) + index
        return min(whole, int(spec.max)) if spec.max is not None else whole
    if spec.type is ColumnType.DECIMAL:
        number = (spec.min if spec.min is not None else 1.0) + index + 0.5
        return min(number, spec.max) if spec.max is not None else number
    if spec.type is ColumnType.BOOLEAN:
        return index % 2 == 0
    if spec.type is ColumnType.DATE:
        day = _FIXTURE_DAY + timedelta(days=index)
        return day.strftime(spec.format) if spec.format else day
    if spec.type is ColumnType.TIMESTAMP:
        moment = datetime.combine(_FIXTURE_DAY, datetime.min.time()) + timedelta(
            days=index, hours=8, minutes=index
        )
        return moment.strftime(spec.format) if spec.format else moment
    stem = header_key(name) or "value"
    return f"{stem}-{index + 1}"


def fixture_rows(table: TableSpec, rows: int = 5) -> list[dict[str, object]]:
    """``rows`` rows for ``table``: every declared column (and personal-data column), valid
    under the contract. The last row leaves optional columns empty (not the key, the cursor or
    a column a row check names)."""
    names = list(dict.fromkeys([*table.columns, *table.pii, *table.required]))
    keep = set(table.primary_key) | set(table.required_columns())
    if table.incremental:
        keep.add(table.incremental.cursor)
    checked = " ".join(check.rule for check in table.checks)
    out = []
    for index in range(rows):
        row: dict[str, object] = {}
        for name in names:
            spec = table.columns.get(name, ColumnSpec())
            empty = index == rows - 1 and rows > 1 and name not in keep and name not in checked
            row[name] = None if empty else _fixture_value(name, spec, index)
        out.append(row)
    return out


def _iso(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_iso(value))


def write_sqlite_fixture(source: Source, path: Path, rows: int = 5) -> str:
    """A SQLite database with every table of a ``sql`` source (its ``table``, or its lake name
    when it is read by ``query``) and ``rows`` generated rows each; returns its URL."""
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as lite:
        for table in source.tables:
            name = table.table or table.name
            data = fixture_rows(table, rows)
            columns = list(data[0]) if data else list(table.columns)
            specs = [table.columns.get(c, ColumnSpec()) for c in columns]
            body = ", ".join(
                f"{_quote(c)} {_SQLITE_TYPES[s.type]}" for c, s in zip(columns, specs, strict=True)
            )
            if table.primary_key:
                body += f", PRIMARY KEY ({', '.join(_quote(k) for k in table.primary_key)})"
            lite.execute(f"CREATE TABLE {_quote(name)} ({body})")
            marks = ", ".join("?" for _ in columns)
            lite.executemany(
                f"INSERT INTO {_quote(name)} ({', '.join(_quote(c) for c in columns)}) "
                f"VALUES ({marks})",
                [tuple(_iso(r[c]) for c in columns) for r in data],
            )
    return f"sqlite://{path.resolve()}"


def touch_sqlite_fixture(source: Source, url: str) -> dict[str, int]:
    """Change the fixture as a system does between two runs, and say how many rows each table
    must land next: a table with a cursor gets one row updated (its cursor moved past every
    other: 1 row), a table without loses its last row (its content changed: read whole, the
    rest lands again)."""
    import sqlite3

    expected = {}
    with sqlite3.connect(url.removeprefix("sqlite://")) as lite:
        for table in source.tables:
            name = _quote(table.table or table.name)
            first = f"rowid = (SELECT min(rowid) FROM {name})"
            cursor = table.incremental.cursor if table.incremental else None
            spec = table.columns.get(cursor or "", ColumnSpec())
            if cursor and spec.type in (ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.INTEGER):
                later: object = 1_000_000
                if spec.type is not ColumnType.INTEGER:
                    later = _fixture_value(cursor, spec, 100)  # 100 days after the others
                lite.execute(f"UPDATE {name} SET {_quote(cursor)} = ? WHERE {first}", [_iso(later)])
                expected[table.name] = 1
            else:
                count = lite.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                lite.execute(f"DELETE FROM {name} WHERE rowid = (SELECT max(rowid) FROM {name})")
                expected[table.name] = count - 1
    return expected


def sqlite_twin(source: Source) -> Source:
    """``source`` with every table read by ``query`` read from its fixture table instead (the
    one ``write_sqlite_fixture`` makes): a query naming a PostgreSQL schema cannot run on
    SQLite."""
    tables = [
        t.model_copy(update={"query": None, "table": t.name}) if t.query else t
        for t in source.tables
    ]
    return source.model_copy(update={"tables": tables})


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _file_name(pattern: str | None, extension: str) -> str:
    """A file name the table's pattern matches (``chi-tieu-*.csv`` → ``chi-tieu-fixture.csv``)."""
    tail = (pattern or f"*.{extension}").split("/")[-1]
    name = tail.replace("**", "fixture").replace("*", "fixture").replace("?", "x")
    name = re.sub(r"\[[^]]*\]", "x", name)
    return name if fnmatch(name, tail) else f"fixture.{extension}"


def write_file_fixture(source: Source, folder: Path, rows: int = 5) -> Path:
    """One file per table of a ``files`` source (csv, json, jsonl, excel), named to match the
    table's pattern, with ``rows`` generated rows; returns the folder."""
    assert source.files is not None
    spec = source.files
    folder.mkdir(parents=True, exist_ok=True)
    extension = {"excel": "xlsx", "xml130": "xml"}.get(spec.format, spec.format)
    if spec.format == "xml130":
        raise ValueError("XML 130 fixtures are not generated: use a real (pseudonymised) file")
    workbook: Any = None
    for table in source.tables:
        data = [{k: _as_text(v) for k, v in r.items()} for r in fixture_rows(table, rows)]
        pattern = table.pattern or spec.pattern
        if spec.format == "excel":
            from openpyxl import Workbook

            if workbook is None:
                workbook = Workbook()
                workbook.remove(workbook.active)
            sheet = workbook.create_sheet((table.sheet or table.name)[:31].replace("*", "x"))
            sheet.append(list(data[0]))
            for row in data:
                sheet.append(list(row.values()))
            continue
        target = folder / _file_name(pattern, extension)
        if spec.format == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=spec.delimiter or ",", lineterminator="\n")
            writer.writerow(list(data[0]))
            writer.writerows([list(r.values()) for r in data])
            target.write_text(buffer.getvalue(), encoding=spec.encoding or "utf-8")
        elif spec.format == "json":
            document: Any = data
            for key in reversed([k for k in (table.record_path or "").split(".") if k]):
                document = {key: document}
            target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        else:
            lines = [json.dumps(r, ensure_ascii=False) for r in data]
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if workbook is not None:
        workbook.save(folder / _file_name(source.tables[0].pattern or spec.pattern, extension))
    return folder


@contextmanager
def serve_fixture(source: Source, rows: int = 5) -> Iterator[str]:
    """A local HTTP server answering every table's endpoint of a ``rest`` source with
    ``rows`` generated records at its records path (all on the first page, none after);
    yields its root URL."""
    assert source.rest is not None
    paging = source.rest.pagination
    answers: dict[str, Any] = {}
    for table in source.tables:
        assert table.endpoint is not None
        records = [{k: _as_text(v) for k, v in r.items()} for r in fixture_rows(table, rows)]
        document: Any = records
        for key in reversed(
            [k for k in (table.record_path or paging.records_path).split(".") if k]
        ):
            document = {key: document}
        answers[urlsplit(table.endpoint).path] = (document, records)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            if parts.path not in answers:
                self.send_error(404)
                return
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            first = paging.first_page if paging.style == "page" else 0
            position = query.get(paging.page_param)
            later = paging.style in ("page", "offset") and position not in (None, str(first))
            later = later or (paging.style == "cursor" and paging.cursor_param in query)
            document, _ = answers[parts.path]
            body = json.dumps(_emptied(document) if later else document, ensure_ascii=False)
            encoded = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        do_GET = _answer  # noqa: N815
        do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _emptied(document: Any) -> Any:
    if isinstance(document, list):
        return []
    return {k: _emptied(v) for k, v in document.items()}
