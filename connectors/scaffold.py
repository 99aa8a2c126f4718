"""``ioc sources new NAME --sector S``: the files a new source starts from.

Two ways in:

- ``--from-db URL [--table T ...]``, ``--from-file SAMPLE`` or ``--from-url URL``: the system is
  introspected (``connectors.introspect``) and the declaration written complete: every column
  with its type, ``required``, admin-code flag and title, the primary key, a suggested
  cursor, the personal-data treatments; what was guessed rather than read is marked ``guessed``
  or ``TODO`` in the file and listed by the command. The URL (without its password) is the
  connection's default, so the source lands as written; its environment variable overrides it.
  One staging model per table, and a test that lands a fixture generated from the declaration
  (a SQLite database, sample-shaped files, or a local HTTP server) and checks that every row
  lands once.
- ``--kind K``: a commented template for the kind, one placeholder table, to fill in by hand.

Files: the registry entry (``connectors/sources/<sector>/<name>.yaml``, validated before
anything is written), the staging models (``dbt_project/models/staging/<sector>/
stg_<name>__<table>.sql``) and the test (``tests/connectors/test_source_<name>.py``). Nothing
is written unless every file is new. The walk-through is docs/adding-a-source.md.
"""

from __future__ import annotations

import json
import logging
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from connectors.formats.headers import header_key
from connectors.introspect import ColumnGuess, Introspection, TableGuess
from connectors.registry import ColumnType, PiiTreatment, Source, TableSpec
from iochub.settings import REPO_ROOT

KINDS = ("files", "sql", "rest", "mqtt")
SECTORS = ("health", "public_services", "education", "agriculture", "iot", "statistics")
TABLE = "records"  # the template's one table; rename it in all three files together

_HEADER = """\
# {name}: <one paragraph: what this system is, who runs it, what each table holds, its quirks
# (encodings, renamed fields, late updates) and how the contract below deals with them>.
name: {name}
sector: {sector}
title: "<Vietnamese name of the system> (<English name>)"
owner: "<the department that owns the system>"
kind: {kind}
connection:
  # By reference only: the variable that holds the {what}; the default is the demo's.
  env: {env}
  default: "{default}"
schedule: "@daily"  # Airflow schedule of extract__{name}
freshness_hours: 48  # older than this = stale on the freshness dashboard
simulated: false  # the demo province has no such system: its tests skip it
publish: true  # marts.src_<source>__<table>: the latest version of each record
"""

_BLOCKS = {
    "files": """\
files:
  format: {file_format}  # xml130 | excel | csv | json | jsonl
  pattern: "**/*.{extension}"  # which files of the folder are read (glob)
  # encoding / delimiter are detected when unset
""",
    "sql": """\
sql:
  chunk_rows: 100000  # rows per batch read with connectorx
""",
    "rest": """\
rest:
  # auth: {{type: bearer, token_env: IOC_{upper}_TOKEN}}
  pagination:
    style: page  # none | page | offset | cursor
    page_param: page
    size_param: page_size
    size: 500
    records_path: data  # where the rows are in a response (dotted)
  timeout_seconds: 30
  retries: 5
""",
    "mqtt": """\
mqtt:
  # Fixed per installation: the broker keeps this client's queue between runs.
  client_id: iochub-{dashed}
  qos: 1
  idle_seconds: 2  # stop draining after this long without a message
  max_seconds: 300  # and in any case after this long
  message_id_field: message_id  # duplicates are removed by this field
""",
}

_LOCATORS = {
    # Matched from the right (pathlib), so "*.csv" is any depth; "**/" would need a folder.
    "files": '    pattern: "*.{extension}"  # the files (of files.pattern) that feed this table',
    "sql": "    table: {name}  # or query: SELECT ... (DuckDB-independent SQL of the source)",
    "rest": "    endpoint: /api/{name}  # GET by default; method: POST with body: {{...}}",
    "mqtt": '    topic: "<prefix>/{name}/+"  # MQTT wildcards allowed',
}

_DEFAULTS = {
    "files": ("folder the system drops its files into", "{{sim}}/{sector}/{name}"),
    "sql": ("database URL (postgresql://, mysql://, sqlite://)", "{{pg}}/{{db_prefix}}{name}"),
    "rest": ("API root URL", "http://127.0.0.1:{{sim_port_base}}"),
    "mqtt": ("broker URL", "mqtt://127.0.0.1:1883"),
}

_TABLES = """\
tables:
  - name: {table}
    title: "<what one row is>"
{locator}
    primary_key: [id]
    # incremental: {{cursor: updated_at, initial: "2025-01-01"}}
    columns:
      # type: string|integer|decimal|boolean|date|timestamp; required; codes: [...];
      # min/max; format: "%d/%m/%Y"; renamed_from: [OLD_NAME]; future: false; admin_code: true
      id: {{required: true}}
      # updated_at: {{type: timestamp, required: true, future: false}}
    # checks:
    #   - reason: impossible_date
    #     rule: "end_date >= start_date"
    # Personal data is treated before anything is written: names, CCCD, BHYT card numbers and
    # phone numbers hmac (or drop), birth dates year. `ioc privacy scan` proves it.
    # pii:
    #   full_name: hmac
    #   birth_date: year
"""

_STAGING = """\
-- sqlfluff:templater:jinja:load_macros_from_path:macros
-- Staging model of {name}.{table}: the latest landed version of each record (the registry's
-- primary_key: macros/source_latest.sql), columns renamed to English snake_case and typed;
-- nothing filtered. The source is declared by `ioc dbt sources`
-- (models/staging/{sector}/_{name}__sources.yml, generated from the registry).
with source as (
    {{{{ source_latest('{name}', '{table}') }}}}
),

renamed as (
    select
        id as {table}_id,
        -- <more columns: cast, rename, decode codes>
        _run_id as run_id,
        load_date
    from source
)

select * from renamed
"""

_TEST = '''\
"""Extract {name} from the demo province: nothing lost between the source and the lake.

Scaffolded by `ioc sources new`; add a count of what the source holds, read independently
(its files, a COUNT(*) on its table, its API's total), and compare it with the landed rows.
"""

from __future__ import annotations

import duckdb

from connectors.extract import run_extract
from iochub.settings import Settings


def test_{name}_lands_every_row(lake_home: Settings) -> None:
    manifest = run_extract("{name}", lake_home)
    manifest.check_invariant()  # rows in = landed + quarantined, per table
    assert sum(manifest.rows_in.values()) > 0, "the source gave no rows"
    for table, landed in manifest.rows_landed.items():
        files = [str(lake_home.lake_dir / t.path) for t in manifest.tables if t.table == table]
        counted = duckdb.sql(f"SELECT count(*) FROM read_parquet({{files}})").fetchone()
        assert counted is not None and counted[0] == landed
'''


class ScaffoldError(Exception):
    """Bad name/kind/sector, or a file that would be overwritten."""


@dataclass(frozen=True)
class Scaffold:
    registry: Path
    staging: Path  # the first table's model
    test: Path
    models: tuple[Path, ...] = ()  # every table's staging model
    summary: list[str] = field(default_factory=list)  # what was guessed, what to confirm


def render_registry(name: str, kind: str, sector: str, file_format: str = "csv") -> str:
    what, default = _DEFAULTS[kind]
    values = {
        "name": name,
        "sector": sector,
        "kind": kind,
        "what": what,
        "env": f"IOC_{name.upper()}_{'DIR' if kind == 'files' else 'URL'}",
        "upper": name.upper(),
        "dashed": name.replace("_", "-"),
        "file_format": file_format,
        "extension": {"excel": "xlsx", "xml130": "xml"}.get(file_format, file_format),
        "table": TABLE,
    }
    values["default"] = default.format(**values)
    values["locator"] = _LOCATORS[kind].format(**{**values, "name": TABLE})
    return _HEADER.format(**values) + _BLOCKS[kind].format(**values) + _TABLES.format(**values)


def _check_name(name: str, sector: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ScaffoldError(f"{name!r}: a source name is lower_snake_case (e.g. agri_dt10)")
    if sector not in SECTORS:
        raise ScaffoldError(f"sector {sector!r}: one of {', '.join(SECTORS)}")


def _write_new(texts: dict[Path, str], sources_dir: Path, name: str) -> None:
    """Write every file, or none if one exists (or a source of that name in any sector)."""
    existing = [p for p in texts if p.exists()]
    same_name = list(sources_dir.rglob(f"{name}.yaml")) if sources_dir.is_dir() else []
    if existing or same_name:
        raise ScaffoldError(
            "will not overwrite: "
            + ", ".join(str(p) for p in dict.fromkeys([*existing, *same_name]))
        )
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
            handle.write(text)


def scaffold(
    name: str,
    kind: str,
    sector: str,
    *,
    sources_dir: Path,
    dbt_project_dir: Path = REPO_ROOT / "dbt_project",
    tests_dir: Path = REPO_ROOT / "tests" / "connectors",
    file_format: str = "csv",
) -> Scaffold:
    """The blank template of a kind (``--kind``): one placeholder table to fill in by hand."""
    _check_name(name, sector)
    if kind not in KINDS:
        raise ScaffoldError(f"kind {kind!r}: one of {', '.join(KINDS)}")
    if kind != "files" and file_format != "csv":
        raise ScaffoldError("--format is for files sources only")
    paths = Scaffold(
        registry=sources_dir / sector / f"{name}.yaml",
        staging=dbt_project_dir / "models" / "staging" / sector / f"stg_{name}__{TABLE}.sql",
        test=tests_dir / f"test_source_{name}.py",
    )
    registry_text = render_registry(name, kind, sector, file_format)
    # Written only once it is known to be valid, so a broken template never reaches the registry.
    Source.model_validate(yaml.safe_load(registry_text))
    _write_new(
        {
            paths.registry: registry_text,
            paths.staging: _STAGING.format(name=name, table=TABLE, sector=sector),
            paths.test: _TEST.format(name=name),
        },
        sources_dir,
        name,
    )
    return Scaffold(paths.registry, paths.staging, paths.test, (paths.staging,))


# --- From an introspected system (--from-db, --from-file, --from-url) -------------------------

_FROM = {"sql": "--from-db", "files": "--from-file", "rest": "--from-url"}
_INITIAL = "2000-01-01"  # the first incremental run reads from here (every row of the system)


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _plain(text: str) -> str:
    """``text`` bare when YAML reads it back as that string, else quoted."""
    if re.fullmatch(r"[A-Za-z_/][A-Za-z0-9_./-]*", text) and yaml.safe_load(text) == text:
        return text
    return _q(text)


def _yaml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else _q(name)


def _flow(items: dict[str, object], bare: Sequence[str] = ()) -> str:
    parts = []
    for key, value in items.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif key in bare:
            text = str(value)
        elif isinstance(value, list):
            text = "[" + ", ".join(_yaml_key(str(v)) for v in value) + "]"
        elif isinstance(value, int | float):
            text = str(value)
        else:
            text = _q(str(value))
        parts.append(f"{key}: {text}")
    return "{" + ", ".join(parts) + "}"


def env_name(name: str, kind: str) -> str:
    return f"IOC_{name.upper()}_{'DIR' if kind == 'files' else 'URL'}"


def _column_line(column: ColumnGuess) -> str:
    spec: dict[str, object] = {}
    if column.type is not ColumnType.STRING:
        spec["type"] = column.type.value
    if column.format:
        spec["format"] = column.format
    if column.required:
        spec["required"] = True
    if not column.future:
        spec["future"] = False
    if column.admin_code:
        spec["admin_code"] = True
    spec["title"] = column.title
    line = f"      {_yaml_key(column.name)}: {_flow(spec, bare=('type',))}"
    return line + (f"  # guessed: {'; '.join(column.notes)}" if column.notes else "")


def _comment(text: str, indent: int = 4) -> list[str]:
    prefix = " " * indent + "# "
    return textwrap.wrap(text, width=100, initial_indent=prefix, subsequent_indent=prefix)


def cursor_advice(table: TableGuess, kind: str, since_param: str | None = None) -> str:
    """What the cursor guess means for this kind of source, in one sentence or two
    (``since_param``: the API's change filter, seen in the sample URL)."""
    if kind == "files":
        advice = "files land once each (by content hash), so no cursor is declared"
        if table.cursor:
            advice += f"; {table.cursor_note}: it orders the versions of a key"
        return advice
    if not table.cursor:
        if kind == "rest":
            return f"{table.cursor_note}: every run reads the whole endpoint"
        return f"{table.cursor_note}: read whole each run, landed only when its content changed"
    if kind == "rest" and since_param:
        return (
            f"{table.cursor_note}; each run sends the last cursor landed as {since_param} "
            "(rest.since_param, from the sample URL), so the API answers only what changed"
        )
    if kind == "rest":
        return (
            f"{table.cursor_note}; the rest kind reads only rows past it if the API filters by "
            "it: TODO set rest.since_param and uncomment the incremental line"
        )
    return f"{table.cursor_note}; each run reads the rows past the last cursor landed"


def _cursor_lines(table: TableGuess, kind: str, since_param: str | None) -> list[str]:
    advice = cursor_advice(table, kind, since_param)
    lines = _comment(("guessed: " if table.cursor else "") + advice + ".")
    if table.cursor and kind != "files":
        comment = "# " if kind == "rest" and not since_param else ""
        lines.append(
            f"    {comment}incremental: {{cursor: {_yaml_key(table.cursor)}, "
            f"initial: {_q(_INITIAL)}}}"
        )
        if kind == "sql":
            lines += _comment(
                "No lag_hours: a lag window re-reads (and lands again) the rows of the last "
                "hours on every run; add one only for a system that writes late rows with an "
                "older cursor."
            )
    return lines


def _table_block(table: TableGuess, kind: str, since_param: str | None = None) -> list[str]:
    lines = [
        f"  - name: {table.name}",
        f"    title: {_q(table.title)}  # TODO: what one row is, in Vietnamese (English)",
    ]
    lines += [f"    {key}: {_plain(value)}" for key, value in table.locator.items()]
    if table.body:
        lines.append(f"    body: {_flow(dict(table.body))}  # sent as query parameters")
    key = "[" + ", ".join(_yaml_key(k) for k in table.primary_key) + "]"
    if table.key_from == "database":
        lines.append(f"    primary_key: {key}  # from the database")
    elif table.key_from == "guessed":
        lines.append(f"    primary_key: {key}  # TODO confirm, guessed: {table.key_note}")
    else:
        lines.append(f"    primary_key: []  # TODO: {table.key_note}")
    lines += _cursor_lines(table, kind, since_param)
    lines.append("    columns:")
    lines += [_column_line(c) for c in table.columns if c.pii is not PiiTreatment.DROP]
    personal = [c for c in table.columns if c.pii is not None]
    if personal:
        lines.append("    # Treated before anything is written; `ioc privacy scan` proves it.")
        lines.append("    pii:")
        for column in personal:
            assert column.pii is not None
            why = "; ".join(column.pii_notes)
            lines.append(f"      {_yaml_key(column.name)}: {column.pii.value}  # guessed: {why}")
    return lines


def render_introspected(name: str, sector: str, intro: Introspection) -> str:
    """The declaration of an introspected system, with every guess marked in a comment."""
    env = env_name(name, intro.kind)
    sampled = max((t.sampled for t in intro.tables), default=0)
    lines = [
        f"# {name}: introspected by `ioc sources new {_FROM[intro.kind]}` on "
        f"{date.today().isoformat()}",
        f"# from {intro.origin}.",
        "# TODO: one paragraph: what this system is, who runs it, what each table holds, its",
        "# quirks and how the contract below deals with them.",
        "# Marked 'guessed' or 'TODO': inferred from the schema and a sample of up to "
        f"{sampled} row(s),",
        "# not read from the system: confirm or correct it, then drop the mark.",
        f"name: {name}",
        f"sector: {sector}",
        'title: "<Vietnamese name of the system> (<English name>)"  # TODO',
        'owner: "<the department that owns the system>"  # TODO',
        f"kind: {intro.kind}",
        "connection:",
        f"  # By reference: {env}, when set, overrides this default.",
    ]
    if intro.password_removed:
        lines.append(
            f"  # The URL given had a password: not written here. Set {env} to the full URL."
        )
    lines += [
        f"  env: {env}",
        f"  default: {_q(intro.default)}",
        'schedule: "@daily"  # Airflow schedule of extract__' + name,
        "freshness_hours: 48  # older than this = stale on the freshness dashboard",
        "simulated: false  # the demo province has no such system: its tests skip it",
        "publish: true  # marts.src_<source>__<table>: the latest version of each record",
    ]
    if intro.kind == "sql":
        lines += ["sql:", "  chunk_rows: 100000  # rows per batch read with connectorx"]
    elif intro.kind == "files":
        assert intro.file_format is not None
        pattern = intro.tables[0].locator.get("pattern") or {"excel": "*.xlsx"}.get(
            intro.file_format, f"*.{intro.file_format}"
        )
        lines += ["files:", f"  format: {intro.file_format}", f"  pattern: {_q(pattern)}"]
    else:
        lines += ["rest:", "  pagination:"]
        pagination = {**intro.pagination, "records_path": intro.records_path}
        lines += [f"    {k}: {_q(v) if isinstance(v, str) else v}" for k, v in pagination.items()]
        if intro.since_param:
            lines.append(f"  since_param: {_q(intro.since_param)}  # the last cursor goes here")
    lines.append("tables:")
    for table in intro.tables:
        lines += _table_block(table, intro.kind, intro.since_param)
    return "\n".join(lines) + "\n"


_TYPES_SQL = {
    ColumnType.STRING: "varchar",
    ColumnType.INTEGER: "bigint",
    ColumnType.DECIMAL: "double precision",  # `double` alone is not a PostgreSQL type
    ColumnType.BOOLEAN: "boolean",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp",
}
# Words that cannot be a bare column name in DuckDB or PostgreSQL (the ones sources use).
_RESERVED = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case",
    "cast", "check", "collate", "column", "constraint", "create", "current_date", "current_time",
    "current_timestamp", "current_user", "date", "default", "deferrable", "desc", "distinct", "do",
    "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group",
    "having", "in", "initially", "intersect", "into", "lateral", "leading", "limit", "localtime",
    "localtimestamp", "not", "null", "offset", "on", "only", "or", "order", "placing", "primary",
    "references", "returning", "select", "session_user", "some", "symmetric", "table", "then",
    "time", "timestamp", "to", "trailing", "true", "union", "unique", "user", "using", "variadic",
    "when", "where", "window", "with",
}  # fmt: skip


@cache
def _keywords(reserved: bool) -> frozenset[str]:
    """SQL keywords of DuckDB and PostgreSQL as sqlfluff knows them: the reserved ones (or,
    with ``reserved=False``, every keyword: sqlfluff's RF04 refuses them as bare aliases)."""
    words = set(_RESERVED)
    if not reserved:
        words |= {"name", "type", "value", "level", "source", "target", "comment", "key", "year"}
    logging.getLogger("sqlfluff").setLevel(logging.WARNING)  # its lexer says hello at INFO
    try:
        from sqlfluff.core import dialect_selector
    except ImportError:  # sqlfluff is a development tool: the lists above are the fallback
        return frozenset(words)
    for dialect in ("duckdb", "postgres"):
        sets = dialect_selector(dialect).sets
        found = sets("reserved_keywords") | (set() if reserved else sets("unreserved_keywords"))
        words |= {w.lower() for w in found}
    return frozenset(words)


def _ident(name: str) -> str:
    """A column as the SQL of both warehouses reads it: bare when it can be."""
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in _keywords(reserved=True):
        return name
    return '"' + name.replace('"', '""') + '"'


def _alias(name: str, table: str, suffix: str = "") -> str:
    """The staging name of a column: snake case, never a keyword (``name`` of table
    ``stations`` → ``stations_name``, as a person would write it)."""
    key = (header_key(name) or "column") + suffix
    if key[0].isdigit() or key in _keywords(reserved=False):
        key = f"{table}_{key}"
    return key


def render_staging(source: Source, table: TableSpec) -> str:
    """The staging model of one declared table: every column cast explicitly to a type both
    warehouses share, personal-data columns named for what they hold after landing."""
    select = []
    dropped = []
    taken = {"run_id", "source_file", "load_date"}
    for name in dict.fromkeys([*table.columns, *table.pii]):
        treatment = table.pii.get(name)
        spec = table.columns.get(name)
        if treatment is PiiTreatment.DROP:
            dropped.append(name)
            continue
        if treatment is PiiTreatment.HMAC:
            sql_type, suffix = "varchar", "_key"
        elif treatment is PiiTreatment.YEAR:
            sql_type, suffix = "integer", "_year"
        else:
            sql_type = _TYPES_SQL[spec.type if spec is not None else ColumnType.STRING]
            suffix = ""
        alias = base = _alias(name, table.name, suffix)
        n = 2
        while alias in taken:  # two spellings with one snake-case name
            alias, n = f"{base}_{n}", n + 1
        taken.add(alias)
        select.append(f"cast({_ident(name)} as {sql_type}) as {alias}")
    select.append("_run_id as run_id")
    if source.kind == "files":
        select.append("_source_file as source_file")
    select.append("load_date")
    key = ", ".join(table.primary_key) or "none declared yet"
    # Jinja reads the whole file: no braces from a database comment.
    title = " ".join(table.title.split()).replace("{", "(").replace("}", ")")
    lines = textwrap.wrap(
        f"{title}: the staging model of {source.name}.{table.name}, scaffolded by `ioc "
        f"sources new`. One row per record: the latest landed version of each key ({key}, the "
        "registry's primary_key; macros/source_latest.sql), each column cast to its declared "
        "type (portable: DuckDB and PostgreSQL) and named in snake_case (TODO: English names); "
        "personal data is already treated at landing (*_key: HMAC pseudonyms, *_year: years).",
        width=97,
        initial_indent="-- ",
        subsequent_indent="-- ",
    )
    if dropped:
        lines.append(f"-- Dropped at landing (pii: drop), never in the lake: {', '.join(dropped)}.")
    lines = ["-- sqlfluff:templater:jinja:load_macros_from_path:macros", *lines]
    lines += [
        "with source as (",
        f"    {{{{ source_latest('{source.name}', '{table.name}') }}}}",
        "),",
        "",
        "renamed as (",
        "    select",
        *[f"        {item}," for item in select[:-1]],
        f"        {select[-1]}",
        "    from source",
        ")",
        "",
        "select * from renamed",
    ]
    return "\n".join(lines) + "\n"


_TEST_HEAD = '''\
"""{name}: every row of a fixture made from its declaration lands, once.

{doc}
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from connectors.extract import run_extract
from connectors.introspect import {helper}
from connectors.landing import Manifest
from connectors.registry import Source, load_registry
from iochub.settings import Settings, get_settings

NAME = "{name}"
ROWS = {rows}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IOC_PII_KEY", "test-key-not-secret")
    return get_settings()


def landed_every_row(source: Source, settings: Settings, manifest: Manifest) -> None:
    manifest.check_invariant()  # rows in = landed + quarantined, per table
    for table in source.tables:
        assert manifest.rows_in.get(table.name) == ROWS, (table.name, manifest.rows_in)
        assert manifest.rows_quarantined.get(table.name, 0) == 0, (
            f"{{table.name}}: rows valid under the contract were quarantined, see "
            f"{{manifest.quarantine_path}}"
        )
        files = [str(settings.lake_dir / t.path) for t in manifest.tables if t.table == table.name]
        counted = duckdb.sql(f"SELECT count(*) FROM read_parquet({{files}})").fetchone()
        assert counted is not None and counted[0] == manifest.rows_landed[table.name] == ROWS

'''

_TEST_BODY = {
    # {extract} lands the source; a table read by a query (a PostgreSQL schema) is read from
    # its fixture table instead ({twin}).
    "sql": """
def test_{name}_lands_every_row_once(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = load_registry(settings)[NAME]
    fixture = write_sqlite_fixture(source, tmp_path / "{name}.sqlite", ROWS)
    monkeypatch.setenv("{env}", fixture)
{twin}
    landed_every_row(source, settings, {extract})
    again = {extract}  # nothing changed at the source: nothing lands
    again.check_invariant()
    assert sum(again.rows_landed.values()) == 0, again.rows_landed

    # The system changes a row (or, in a table without a cursor, deletes one): what must land.
    changed = touch_sqlite_fixture(source, fixture)
    after = {extract}
    after.check_invariant()
    assert {{t: n for t, n in after.rows_landed.items() if n}} == changed
""",
    "files": """
def test_{name}_lands_every_row_once(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = load_registry(settings)[NAME]
    inbox = write_file_fixture(source, tmp_path / "inbox", ROWS)
    monkeypatch.setenv("{env}", str(inbox))

    landed_every_row(source, settings, run_extract(NAME, settings))
    again = run_extract(NAME, settings)  # the same files again: nothing lands
    again.check_invariant()
    assert sum(again.rows_landed.values()) == 0, again.rows_landed
""",
    "rest": """
{rest_signature}
    source = load_registry(settings)[NAME]
    with serve_fixture(source, ROWS) as url:
        monkeypatch.setenv("{env}", url)
        landed_every_row(source, settings, run_extract(NAME, settings))
    # No second-run check: without rest.since_param the kind reads the whole endpoint every
    # run and lands it again; the staging model keeps the latest version of each key.
""",
}
_FIXTURES = {
    "sql": ("write_sqlite_fixture", "The fixture is a SQLite database with the declared tables "
            "and columns;"),
    "files": ("write_file_fixture", "The fixture is one file per table in the declared format,"
              " named to match its pattern;"),
    "rest": ("serve_fixture", "The fixture is a local HTTP server answering every endpoint;"),
}  # fmt: skip


def render_test(name: str, kind: str, rows: int = 5, queries: bool = False) -> str:
    """The scaffolded test of a source (``queries``: a sql source with tables read by query)."""
    helper, fixture = _FIXTURES[kind]
    doc = textwrap.fill(
        f"Scaffolded by `ioc sources new {_FROM[kind]}`. {fixture} {rows} rows per table are "
        "generated from the declared contract (types, required, code lists, ranges, admin "
        "codes: connectors.introspect.fixture_rows), so the test needs neither the live system "
        "nor the demo province. As you learn the system, add the rows it really sends and rows "
        "the contract must quarantine, and assert where each goes.",
        width=96,
    )
    signature = f"def test_{name}_lands_every_row(settings: Settings, monkeypatch: pytest."
    signature += "MonkeyPatch) -> None:"
    if len(signature) > 100:  # as ruff format writes it
        signature = (
            f"def test_{name}_lands_every_row(\n    settings: Settings, monkeypatch: "
            "pytest.MonkeyPatch\n) -> None:"
        )
    values = {
        "rest_signature": signature,
        "doc": doc,
        "name": name,
        "rows": rows,
        "helper": helper,
        "env": env_name(name, kind),
    }
    head = _TEST_HEAD.format(**values)
    if kind == "sql":
        helpers = "sqlite_twin, touch_sqlite_fixture" if queries else "touch_sqlite_fixture"
        head = head.replace(f"import {helper}", f"import {helpers}, {helper}")
    if kind == "sql" and queries:
        head = head.replace("import run_extract", "import extract_source")
        values["extract"] = "extract_source(twin, settings)"
        values["twin"] = (
            "    # The queries name a schema SQLite lacks: their tables are read from the "
            "fixture's tables.\n    twin = sqlite_twin(source)\n"
        )
    elif kind == "sql":
        values["extract"], values["twin"] = "run_extract(NAME, settings)", ""
    return head + _TEST_BODY[kind].format(**values)


def summarise(name: str, intro: Introspection) -> list[str]:
    """What was read from the system, what was guessed, and what the engineer must confirm."""
    lines = []
    env = env_name(name, intro.kind)
    if intro.password_removed:
        lines.append(f"TODO: the password is not in the YAML: set {env} to the full URL")
    for table in intro.tables:
        where = ", ".join(f"{k} {v}" for k, v in table.locator.items())
        lines.append(
            f"table {table.name} ({where}): {len(table.columns)} column(s), "
            f"{table.sampled} row(s) sampled"
        )
        if table.key_from == "database":
            lines.append(f"  key: {', '.join(table.primary_key)} (from the database)")
        else:
            lines.append(f"  TODO key: {table.key_note}")
        cursor = f"cursor {table.cursor}" if table.cursor and intro.kind != "files" else "cursor"
        advice = cursor_advice(table, intro.kind, intro.since_param)
        lines.append(f"  {'guessed ' + cursor if table.cursor else 'no cursor'}: {advice}")
        for column in table.columns:
            if column.pii is not None:
                why = "; ".join(column.pii_notes)
                if column.pii_sample:
                    why += f", e.g. {column.pii_sample}"
                lines.append(f"  guessed pii: {column.name}: {column.pii.value} ({why})")
        for column in table.columns:
            if column.admin_code:
                why = "; ".join(n for n in column.notes if n.startswith("admin"))
                lines.append(f"  guessed admin code: {column.name} ({why})")
        for column in table.columns:
            typed = [n for n in column.notes if n.startswith("text holding")]
            if typed:
                lines.append(f"  guessed type: {column.name}: {typed[0]}")
    lines += [f"note: {n}" for n in intro.notes]
    lines.append(
        "TODO: title, owner, the header paragraph and each table's title; each column's title "
        "in Vietnamese (English); the staging names"
    )
    return lines


def scaffold_introspected(
    name: str,
    sector: str,
    intro: Introspection,
    *,
    sources_dir: Path,
    dbt_project_dir: Path = REPO_ROOT / "dbt_project",
    tests_dir: Path = REPO_ROOT / "tests" / "connectors",
) -> Scaffold:
    """Write the declaration of an introspected system, a staging model per table and a test
    that lands a fixture made from the declaration."""
    _check_name(name, sector)
    text = render_introspected(name, sector, intro)
    try:
        source = Source.model_validate(yaml.safe_load(text))
    except Exception as exc:  # a guess the registry refuses: a bug here, never a broken file
        raise ScaffoldError(f"the introspected declaration is not valid: {exc}") from exc
    registry = sources_dir / sector / f"{name}.yaml"
    staging_dir = dbt_project_dir / "models" / "staging" / sector
    models = tuple(staging_dir / f"stg_{name}__{t.name}.sql" for t in source.tables)
    test = tests_dir / f"test_source_{name}.py"
    queries = any(t.query for t in source.tables)
    texts = {registry: text, test: render_test(name, intro.kind, queries=queries)}
    texts |= {m: render_staging(source, t) for m, t in zip(models, source.tables, strict=True)}
    _write_new(texts, sources_dir, name)
    return Scaffold(registry, models[0], test, models, summarise(name, intro))


def tables_of(values: Sequence[str]) -> list[str]:
    """``--table a,b --table c`` → [a, b, c]."""
    return [t.strip() for value in values for t in value.split(",") if t.strip()]
