"""The source registry: one YAML file per sector system under ``connectors/sources/<sector>/``.

Everything downstream is derived from these declarations (extract DAGs, landing contracts, dbt
sources, freshness). This module loads and validates them into typed models; a mistake in a file
is reported with the file's path, the line and the field at fault.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.formats.headers import header_key
from iochub.settings import Settings


class PiiTreatment(StrEnum):
    """How a personal-data column is treated at landing, before anything is written."""

    HMAC = "hmac"  # keyed HMAC-SHA256 pseudonym: stable, joinable, not reversible without key
    DROP = "drop"  # never lands
    YEAR = "year"  # a date generalised to its year


class DriftAction(StrEnum):
    """What landing does when a batch's columns differ from the declared contract."""

    EVOLVE = "evolve"  # land the extra column (as text) and report it in the manifest
    QUARANTINE = "quarantine"  # quarantine the whole batch with reason schema_drift
    # Fail the run loudly and commit nothing: the system still holds the batch, read again once
    # the declaration is fixed. A file, though, is its own unit: the files kind quarantines the
    # file alone (missing_columns) and lands the rest of the run.
    FAIL = "fail"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Connection(_Model):
    """Where the source lives, by reference only: an environment variable or an Airflow
    connection id — never a secret in the file."""

    env: str | None = None
    airflow_conn_id: str | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        if (self.env is None) == (self.airflow_conn_id is None):
            raise ValueError("give exactly one of env or airflow_conn_id")
        return self

    def resolve(self, settings: Settings, environ: dict[str, str]) -> str:
        value: str | None = None
        if self.env is not None:
            value = environ.get(self.env)
        elif self.airflow_conn_id is not None:
            # Airflow exposes connections to tasks as AIRFLOW_CONN_<ID> (a URI).
            value = environ.get(f"AIRFLOW_CONN_{self.airflow_conn_id.upper()}")
        value = value or self.default
        if value is None:
            where = self.env or f"Airflow connection {self.airflow_conn_id}"
            raise RegistryError(f"{where} is not set")
        return expand_placeholders(value, settings)


def expand_placeholders(text: str, settings: Settings) -> str:
    """A registry value with the demo's placeholders filled in: {sim} {home} {pg} {mysql}
    {db_prefix} {sim_port_base} {sim_topic_root}."""
    return text.format(
        sim=settings.sim_dir,
        home=settings.home,
        pg=settings.sim_pg_url,
        mysql=settings.sim_mysql_url,
        db_prefix=settings.sim_db_prefix,
        sim_port_base=settings.sim_port_base,
        sim_topic_root=settings.sim_topic_root,
    )


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # landed as float64
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"


class ColumnSpec(_Model):
    """The contract of one column: checked on every row at landing."""

    type: ColumnType = ColumnType.STRING
    required: bool = False
    codes: list[str] | None = None  # the code list a value must belong to
    # Code lists compare after NFC, trim and case folding ('có' is 'Có'), and land the listed
    # spelling; true compares exactly (codes whose case carries meaning).
    case_sensitive: bool = False
    # Other spellings senders use for a code, landed as the code ("THCS": "Trung học cơ sở");
    # compared like the codes themselves.
    aliases: dict[str, str] = {}
    min: float | None = None
    max: float | None = None
    # strptime format for dates/timestamps sent as text (e.g. "%Y%m%d"); ISO 8601 when unset.
    format: str | None = None
    # Names this column had in earlier versions of the source (e.g. the 3176 renames).
    renamed_from: list[str] = []
    future: bool = True  # false: a date after the load day is quarantined (future_date)
    admin_code: bool = False  # true: must be a commune/district/province code of either structure
    # The column's name for people, Vietnamese with English in brackets ("Diện tích (Area, ha)"):
    # Superset's column label and the start of its dbt description.
    title: str | None = None
    description: str | None = None
    # Header spellings senders use for this column in spreadsheets, as they write them ("Địa
    # bàn / Mã tỉnh" for a two-level header): matched by the excel format, and quoted back to
    # the sender when the column is missing.
    headers: list[str] = []

    @model_validator(mode="after")
    def _aliases_name_codes(self) -> Self:
        if self.aliases and self.codes is None:
            raise ValueError("aliases need a code list (codes:)")
        unknown = sorted(set(self.aliases.values()) - set(self.codes or []))
        if unknown:
            raise ValueError(f"aliases point to values not in codes: {', '.join(unknown)}")
        return self


class Incremental(_Model):
    """Incremental extraction by a monotonically moving cursor column."""

    cursor: str
    # Re-read this far behind the last watermark, for rows updated late; duplicates this
    # produces are removed downstream by primary key and cursor.
    lag_hours: float = Field(default=0, ge=0)
    initial: str | None = None  # the first run starts here (ISO date/timestamp)


class RowCheck(_Model):
    """A rule over one row's typed columns, as a SQL boolean expression (DuckDB dialect)."""

    reason: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # the quarantine reason when it fails
    rule: str  # e.g. "NGAY_RA >= NGAY_VAO"


class DriftPolicy(_Model):
    added: DriftAction = DriftAction.EVOLVE
    removed: DriftAction = DriftAction.FAIL


# Characters Excel refuses in a sheet name (``*`` and ``?`` are the patterns' wildcards).
_NOT_IN_SHEET_NAMES = set("[]/\\:")


def _labels(patterns: list[str], what: str) -> list[str]:
    for pattern in patterns:
        if not pattern.strip():
            raise ValueError(f"{what}: an empty pattern matches nothing")
    return patterns


class SheetLayout(_Model):
    """excel: what in a sheet laid out for people is not a record (a school's own summary sheet:
    a totals row, a row-number column, a signature block). Row labels are the row's first
    non-empty cell, compared like sheet names: NFC, case-folded, ``*`` any text, ``?`` one
    character."""

    # A row whose label matches is skipped: totals and subtotals ("Tổng cộng*", "Cộng*").
    skip_rows: list[str] = []
    # A row whose label matches ends the table, with every row below it (the signature block
    # under a report: "Người lập biểu*", "Hiệu trưởng*").
    end_rows: list[str] = []
    # Header spellings of columns that are not data ("STT", the row number): not landed.
    ignore_columns: list[str] = []

    @model_validator(mode="after")
    def _patterns(self) -> Self:
        _labels(self.skip_rows, "skip_rows")
        _labels(self.end_rows, "end_rows")
        for spelling in self.ignore_columns:
            if not header_key(spelling):
                raise ValueError(f"ignore_columns: {spelling!r} has no letter or digit")
        return self


class TableSpec(_Model):
    """One table, endpoint, file set or topic of a source, landed as lake table ``name``."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    primary_key: list[str]
    # Where the rows come from, by kind: xml130 ``record_path``; excel ``sheet`` and/or
    # ``sheets``; files ``pattern`` (per table); sql ``query`` or ``table``; rest ``endpoint``
    # (+ ``body``); mqtt ``topic``.
    record_path: str | None = None
    sheet: str | None = None
    # excel: the names senders give the table's sheet, as patterns ("Tổng hợp*", "TH *"),
    # compared after NFC and case folding like ``sheet`` itself; every sheet matching ``sheet``
    # or one of these feeds the table (neither: the first sheet).
    sheets: list[str] = []
    # excel: rows and columns of the sheet that are not records (see SheetLayout).
    layout: SheetLayout = SheetLayout()
    pattern: str | None = None
    table: str | None = None
    query: str | None = None
    endpoint: str | None = None
    method: Literal["GET", "POST"] = "GET"
    body: dict[str, Any] | None = None
    topic: str | None = None
    incremental: Incremental | None = None
    columns: dict[str, ColumnSpec] = {}
    required: list[str] = []  # shorthand for columns with required: true
    checks: list[RowCheck] = []
    drift: DriftPolicy = DriftPolicy()
    pii: dict[str, PiiTreatment] = {}

    @model_validator(mode="after")
    def _spellings(self) -> Self:
        for pattern in _labels(self.sheets, "sheets"):
            bad = sorted(_NOT_IN_SHEET_NAMES.intersection(pattern))
            if bad:
                raise ValueError(f"sheets: {pattern!r} has {''.join(bad)!r}, never in a sheet name")
        # A declared header spelling must name one column only: a header is landed under the
        # column whose name or declared header has its key (connectors.formats.headers).
        owners: dict[str, set[str]] = {}
        for name in self.columns:
            owners.setdefault(header_key(name), set()).add(name)
        for name, spec in self.columns.items():
            for spelling in spec.headers:
                key = header_key(spelling)
                if not key:
                    raise ValueError(f"column {name}: header {spelling!r} has no letter or digit")
                others = sorted(owners.setdefault(key, set()) - {name})
                if others:
                    raise ValueError(f"column {name}: header {spelling!r} names {others[0]} too")
                owners[key].add(name)
        for spelling in self.layout.ignore_columns:
            named = sorted(owners.get(header_key(spelling), ()))
            if named:
                raise ValueError(f"layout.ignore_columns: {spelling!r} names column {named[0]}")
        return self

    def required_columns(self) -> list[str]:
        declared = [name for name, spec in self.columns.items() if spec.required]
        return list(dict.fromkeys([*self.required, *declared]))

    def renames(self) -> dict[str, str]:
        """Old column name → declared name."""
        return {old: name for name, spec in self.columns.items() for old in spec.renamed_from}


class FilesSpec(_Model):
    format: Literal["xml130", "excel", "csv", "json", "jsonl"]
    pattern: str = "**/*"
    encoding: str | None = None  # detected when unset
    delimiter: str | None = None  # detected when unset (csv)


class SqlSpec(_Model):
    chunk_rows: int = Field(default=100_000, gt=0)
    # A SQLite file (placeholders allowed) read instead of the connection's *default* URL when
    # that server does not answer or lacks the database: the demo province falls back to SQLite
    # files on a laptop without servers. Never used for a URL given by the environment variable.
    fallback: str | None = None


class RestAuth(_Model):
    type: Literal["none", "bearer", "basic"] = "none"
    # By reference, like the connection: an env variable, else a file (the demo's token file).
    token_env: str | None = None
    token_file: str | None = None
    username_env: str | None = None
    password_env: str | None = None


class RestPagination(_Model):
    style: Literal["none", "page", "offset", "cursor"] = "none"
    page_param: str = "page"
    size_param: str = "page_size"
    size: int = Field(default=500, gt=0)
    first_page: int = 1
    in_body: bool = False  # POST APIs take paging in the JSON body
    records_path: str = "data"  # where the rows are in a response (dotted)
    next_cursor_path: str | None = None
    cursor_param: str = "cursor"


class RestSpec(_Model):
    auth: RestAuth = RestAuth()
    pagination: RestPagination = RestPagination()
    timeout_seconds: float = Field(default=30, gt=0)
    retries: int = Field(default=5, ge=0)
    max_requests_per_second: float | None = None
    since_param: str | None = None  # query parameter that receives the incremental watermark
    # The demo serves each HTTP system on sim_port_base + a fixed offset, and placeholders
    # cannot add: the offset is added to the port of the connection's *default* URL only (a URL
    # given by the environment variable is used as it is).
    default_port_offset: int = Field(default=0, ge=0)
    # Tree APIs (QĐ 766) answer one node object whose paged sub-units are under this key; the
    # node and its children each land as a row (see connectors.kinds.rest).
    children_key: str = "children"


class MqttSpec(_Model):
    client_id: str  # fixed, so the broker keeps a persistent session between runs
    qos: Literal[1, 2] = 1
    idle_seconds: float = Field(default=2.0, gt=0)  # drain until the topic is quiet this long
    max_messages: int = Field(default=200_000, gt=0)
    message_id_field: str = "message_id"
    # A live stream may never go quiet: a run also stops after this long, so it ends on time.
    max_seconds: float = Field(default=300, gt=0)
    # A listener (`ioc extract <source> --follow`) commits a run this long after the first
    # message of the batch: the lag a reading can have in the lake, against the files and
    # manifests a run adds (at most one run per batch_seconds while messages arrive).
    batch_seconds: float = Field(default=60, gt=0)


class Source(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    sector: Literal["health", "public_services", "education", "agriculture", "iot", "statistics"]
    title: str
    owner: str
    kind: Literal["files", "sql", "rest", "mqtt"]
    connection: Connection
    schedule: str
    freshness_hours: int = Field(gt=0)
    description: str | None = None
    # Whether the demo province simulates this system. The whole-province tests land and check
    # only simulated sources, so a new system (`ioc sources new` writes false) joins the registry
    # without breaking them; the hub itself extracts every source alike.
    simulated: bool = True
    # Publish each table's latest landed version as marts.src_<source>__<table> (generated by
    # `ioc dbt sources`, gated, in the serving warehouse and Superset): how a system without
    # curated marts of its own is seen the moment it lands. `ioc sources new` writes true.
    publish: bool = False
    files: FilesSpec | None = None
    sql: SqlSpec | None = None
    rest: RestSpec | None = None
    mqtt: MqttSpec | None = None
    tables: list[TableSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _kind_block(self) -> Self:
        blocks = {"files": self.files, "sql": self.sql, "rest": self.rest, "mqtt": self.mqtt}
        if self.kind in ("files", "mqtt") and blocks[self.kind] is None:
            raise ValueError(f"a {self.kind} source needs a {self.kind}: block")
        extra = [name for name, block in blocks.items() if block is not None and name != self.kind]
        if extra:
            raise ValueError(f"kind is {self.kind}, but the file has a {extra[0]}: block")
        names = [table.name for table in self.tables]
        if len(set(names)) != len(names):
            raise ValueError("two tables share a name")
        locator = {
            "sql": ("table", "query"),
            "rest": ("endpoint",),
            "mqtt": ("topic",),
            "files": ("record_path", "sheet", "sheets", "pattern"),
        }[self.kind]
        for table in self.tables:
            if not any(getattr(table, field) for field in locator):
                raise ValueError(f"table {table.name}: a {self.kind} table needs {locator}")
            excel = self.files is not None and self.files.format == "excel"
            if (table.sheets or table.layout != SheetLayout()) and not excel:
                raise ValueError(f"table {table.name}: sheets and layout are for excel files")
        return self

    def table(self, name: str) -> TableSpec:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"source {self.name} has no table {name}")


class RegistryError(Exception):
    """A registry file is missing, unreadable or does not match the schema."""


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if getattr(k, "value", None) == key]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


# libyaml's loader where PyYAML was built with it (the wheels are): the registry is read by every
# DAG parse and extract, and the pure-Python loader took 0.4 s for 38 files.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_source(path: Path) -> Source:
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Source.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(text, Loader=_LOADER)  # node positions, for the lines quoted
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not str(p).startswith("function-after"))
            line = _line_of(root, loc)
            where = f"{path}:{line}" if line else str(path)
            problems.append(f"{where}: {'.'.join(str(p) for p in loc) or '(file)'}: {err['msg']}")
        raise RegistryError("\n".join(problems)) from exc


# Registries parsed, per folder, with the (path, size, mtime) of the files they were parsed from.
# An Airflow extract task read the registry twice (parsing the DAG file, then in the extract),
# 0.2 s of YAML and validation each for 38 files, 37 tasks at a demo tick: now the scheduler
# parses it once (airflow_config/airflow_local_settings.py) and the tasks it forks inherit it,
# parsing again only when a file changed since.
_PARSED: dict[Path, tuple[tuple[tuple[str, int, int], ...], dict[str, Source]]] = {}


def load_registry(settings: Settings) -> dict[str, Source]:
    """All declared sources by name; raises with every invalid file and duplicate name."""
    paths = sorted(settings.sources_dir.rglob("*.yaml"))
    signature = tuple(
        (str(path), stat.st_size, stat.st_mtime_ns) for path in paths for stat in [path.stat()]
    )
    parsed = _PARSED.get(settings.sources_dir)
    if parsed is not None and parsed[0] == signature:
        return dict(parsed[1])
    sources: dict[str, Source] = {}
    errors: list[str] = []
    for path in paths:
        try:
            source = load_source(path)
        except RegistryError as exc:
            errors.append(str(exc))
            continue
        if source.name in sources:
            errors.append(f"{path}: source name {source.name!r} is declared twice")
        elif path.parent.name != source.sector:
            errors.append(f"{path}: sector {source.sector} but the file is under {path.parent}")
        sources[source.name] = source
    if errors:
        raise RegistryError("\n".join(errors))
    _PARSED[settings.sources_dir] = (signature, sources)
    return dict(sources)
