"""``ioc sources new NAME --kind K --sector S``: the three files a new source starts from.

Writes a commented registry file for the kind (``connectors/sources/<sector>/<name>.yaml``, valid
as written so ``ioc sources validate`` passes straight away), a dbt staging model reading the
landed lake table (``dbt_project/models/staging/<sector>/stg_<name>__<table>.sql``) and a test
that extracts the source and checks nothing was lost (``tests/connectors/test_source_<name>.py``).
It refuses to overwrite any existing file: nothing is written unless all three are new. The
walk-through from here to a published table is docs/adding-a-source.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from connectors.registry import Source
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
    # incremental: {{cursor: updated_at, lag_hours: 24, initial: "2025-01-01"}}
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
-- Staging model of {name}.{table}: one row per landed row, columns renamed to English
-- snake_case and typed; nothing filtered. The source is declared by `ioc dbt sources`
-- (models/staging/{sector}/_{name}__sources.yml, generated from the registry).
with source as (
    select * from {{{{ source('{name}', '{table}') }}}}
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
    staging: Path
    test: Path


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
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ScaffoldError(f"{name!r}: a source name is lower_snake_case (e.g. agri_dt10)")
    if kind not in KINDS:
        raise ScaffoldError(f"kind {kind!r}: one of {', '.join(KINDS)}")
    if sector not in SECTORS:
        raise ScaffoldError(f"sector {sector!r}: one of {', '.join(SECTORS)}")
    if kind != "files" and file_format != "csv":
        raise ScaffoldError("--format is for files sources only")
    paths = Scaffold(
        registry=sources_dir / sector / f"{name}.yaml",
        staging=dbt_project_dir / "models" / "staging" / sector / f"stg_{name}__{TABLE}.sql",
        test=tests_dir / f"test_source_{name}.py",
    )
    existing = [p for p in (paths.registry, paths.staging, paths.test) if p.exists()]
    same_name = [p for p in sources_dir.rglob(f"{name}.yaml")] if sources_dir.is_dir() else []
    if existing or same_name:
        raise ScaffoldError(
            "will not overwrite: "
            + ", ".join(str(p) for p in dict.fromkeys([*existing, *same_name]))
        )
    registry_text = render_registry(name, kind, sector, file_format)
    # Written only once it is known to be valid, so a broken template never reaches the registry.
    Source.model_validate(yaml.safe_load(registry_text))
    texts = {
        paths.registry: registry_text,
        paths.staging: _STAGING.format(name=name, table=TABLE, sector=sector),
        paths.test: _TEST.format(name=name),
    }
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
            handle.write(text)
    return paths
