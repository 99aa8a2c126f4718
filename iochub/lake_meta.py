"""The registry as a table in the lake, for the warehouse's meta marts.

dbt cannot read the registry's YAML into a table, so before each build
:func:`write_registry_snapshot` writes ``lake/_registry/sources.parquet``: one row per declared
source and table with the registry fields the freshness panel needs (sector, title, owner,
kind, schedule, freshness_hours). ``models/marts/meta/meta_source_freshness.sql`` joins it with
the manifests. Not a batch: no manifest names it, and it is rewritten whole each time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.registry import load_registry
from iochub.duckdb_connect import connect_duckdb
from iochub.settings import Settings

REGISTRY_SCHEMA = pa.schema(
    [
        pa.field("source_name", pa.string()),
        pa.field("table_name", pa.string()),
        pa.field("sector", pa.string()),
        pa.field("source_title", pa.string()),
        pa.field("table_title", pa.string()),
        pa.field("owner", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("schedule", pa.string()),
        pa.field("freshness_hours", pa.int64()),
    ]
)


def registry_snapshot_path(settings: Settings) -> Path:
    return settings.lake_dir / "_registry" / "sources.parquet"


def write_registry_snapshot(settings: Settings) -> Path:
    """Write the registry snapshot (atomically) and return its path."""
    rows = [
        {
            "source_name": source.name,
            "table_name": table.name,
            "sector": source.sector,
            "source_title": source.title,
            "table_title": table.title,
            "owner": source.owner,
            "kind": source.kind,
            "schedule": source.schedule,
            "freshness_hours": source.freshness_hours,
        }
        for source in sorted(load_registry(settings).values(), key=lambda s: s.name)
        for table in source.tables
    ]
    path = registry_snapshot_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=REGISTRY_SCHEMA), tmp)
    os.replace(tmp, path)
    return path


# --- the lake in PostgreSQL, for a warehouse on dbt-postgres --------------------------------
# PostgreSQL cannot read Parquet. To build the same dbt project there (the second adapter of
# DESIGN.md "Scale-out path"), every landed table is copied into PostgreSQL first, as
# ``"<source>"."<table>"``: a dbt source's default schema is its name and its tables' default
# identifiers are their names, so the generated sources resolve there unchanged (dbt-postgres
# ignores ``meta.external_location``).

# Rows per COPY chunk of the lake's copy into PostgreSQL: memory stays bounded by a batch.
COPY_BATCH_ROWS = 100_000
_PG_TYPES = {
    "string": "text",
    "large_string": "text",
    "int8": "smallint",
    "int16": "smallint",
    "int32": "integer",
    "int64": "bigint",
    "float": "real",
    "double": "double precision",
    "bool": "boolean",
    "date32[day]": "date",
}


def _pg_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    if pa.types.is_decimal(arrow_type):
        return "numeric"
    if pa.types.is_dictionary(arrow_type):
        return _pg_type(arrow_type.value_type)
    return _PG_TYPES.get(str(arrow_type), "text")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_lake_into_postgres(settings: Settings, conninfo: str) -> dict[str, int]:
    """Copy every table of ``lake/raw`` (landed batches and placeholders alike, read the way
    the generated dbt sources read them) into the PostgreSQL database ``conninfo``, replacing
    what is there, and the lake's own records into schema ``_lake`` (see
    :func:`load_lake_records_into_postgres`). Returns rows per ``source.table``."""

    load_lake_records_into_postgres(settings, conninfo)
    loaded: dict[str, int] = {}
    tables = sorted(
        (source_dir.name, table_dir.name)
        for source_dir in settings.raw_dir.iterdir()
        if source_dir.is_dir()
        for table_dir in source_dir.iterdir()
        if table_dir.is_dir() and any(table_dir.glob("*/*.parquet"))
    )
    with connect_duckdb() as duck, psycopg.connect(conninfo, autocommit=True) as pg:
        for source, table in tables:
            pattern = settings.raw_dir / source / table / "*" / "*.parquet"
            # Streamed a batch at a time: a scale-1 year holds 16 M drug lines in one table.
            reader = duck.execute(
                "select * from read_parquet(?, hive_partitioning = true, union_by_name = true)",
                [str(pattern)],
            ).fetch_record_batch(COPY_BATCH_ROWS)
            # DuckDB matches identifiers case-insensitively, PostgreSQL folds unquoted ones to
            # lower case: lower-case column names let the models' SQL read both the same way.
            schema = reader.schema
            lowered = [name.lower() for name in schema.names]
            if len(set(lowered)) == len(lowered):
                schema = pa.schema([f.with_name(n) for f, n in zip(schema, lowered, strict=True)])
            batches = (pa.RecordBatch.from_arrays(b.columns, schema=schema) for b in reader)
            loaded[f"{source}.{table}"] = copy_arrow_to_postgres(pg, source, table, schema, batches)
    return loaded


def copy_arrow_to_postgres(
    pg: psycopg.Connection[Any],
    schema: str,
    table: str,
    arrow_schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
) -> int:
    """Replace ``schema.table`` in PostgreSQL by the rows of ``batches`` (types mapped from
    ``arrow_schema``, rows by one COPY fed a batch at a time); returns the rows copied. What
    depended on the old table (dbt's views over it) is dropped with it."""
    from pyarrow import csv

    columns = ", ".join(f"{_quote(f.name)} {_pg_type(f.type)}" for f in arrow_schema)
    target = f"{_quote(schema)}.{_quote(table)}"
    pg.execute(f"create schema if not exists {_quote(schema)}")
    for kind in ("view", "table"):
        exists = pg.execute(
            "select 1 from information_schema.tables where table_schema = %s "
            "and table_name = %s and table_type = %s",
            [schema, table, "VIEW" if kind == "view" else "BASE TABLE"],
        ).fetchall()
        if exists:
            pg.execute(f"drop {kind} {target} cascade")
    pg.execute(f"create table {target} ({columns})")
    rows = 0
    with pg.cursor().copy(f"copy {target} from stdin (format csv)") as copy:
        for batch in batches:
            if batch.num_rows:
                sink = pa.BufferOutputStream()
                csv.write_csv(batch, sink, csv.WriteOptions(include_header=False))
                copy.write(sink.getvalue().to_pybytes())
                rows += batch.num_rows
    # Without statistics the planner guessed one quarantined dossier where there were
    # thousands and re-scanned a million dossiers for each (minutes per query at scale 1).
    pg.execute(f"analyze {target}")
    return rows


# The lake's records as the meta and quarantine models read them on dbt-postgres
# (dbt_project/macros/lake_meta.sql; on DuckDB those models read the files themselves).
_RUNS_SCHEMA = pa.schema(
    [
        pa.field("source_name", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("load_date", pa.date32()),
        pa.field("finished_at", pa.timestamp("us")),
    ]
)
_RUN_TABLES_SCHEMA = pa.schema(
    [
        pa.field("source_name", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("table_name", pa.string()),
        pa.field("rows_in", pa.int64()),
        pa.field("rows_landed", pa.int64()),
        pa.field("rows_quarantined", pa.int64()),
        pa.field("landing_expectations", pa.int64()),
    ]
)
_FAILURES_SCHEMA = pa.schema(
    [
        pa.field("source_name", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("failed_at", pa.timestamp("us")),
        pa.field("error_type", pa.string()),
        pa.field("error", pa.string()),
    ]
)
_QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field(name, pa.string())
        for name in ("source", "table_name", "item", "reason", "detail", "raw_json", "run_id")
    ]
    + [pa.field("quarantined_at", pa.string()), pa.field("load_date", pa.date32())]
)


def load_lake_records_into_postgres(settings: Settings, conninfo: str) -> dict[str, int]:
    """Copy the lake's records into schema ``_lake`` of ``conninfo``: ``quarantine`` (every
    rejected row, its content as JSON text), ``runs`` and ``run_tables`` (the committed
    manifests, flattened), ``failures`` (runs that failed) and ``registry`` (the registry
    snapshot). Returns rows per table."""

    from connectors.landing import read_manifests

    manifests = [
        manifest
        for source_dir in sorted(settings.manifest_dir.glob("*"))
        if source_dir.is_dir()
        for manifest in read_manifests(settings, source_dir.name)
    ]
    runs = pa.Table.from_pylist(
        [
            {
                "source_name": m.source,
                "run_id": m.run_id,
                "load_date": date.fromisoformat(m.load_date),
                "finished_at": datetime.fromisoformat(m.finished_at)
                .astimezone(UTC)
                .replace(tzinfo=None),
            }
            for m in manifests
        ],
        schema=_RUNS_SCHEMA,
    )
    run_tables = pa.Table.from_pylist(
        [
            {
                "source_name": m.source,
                "run_id": m.run_id,
                "table_name": table,
                "rows_in": rows_in,
                "rows_landed": m.rows_landed.get(table, 0),
                "rows_quarantined": m.rows_quarantined.get(table, 0),
                "landing_expectations": m.landing_checks.get(table, 0),
            }
            for m in manifests
            for table, rows_in in m.rows_in.items()
        ],
        schema=_RUN_TABLES_SCHEMA,
    )
    failures = pa.Table.from_pylist(
        [
            {
                "source_name": record["source"],
                "run_id": record["run_id"],
                "failed_at": datetime.fromisoformat(record["failed_at"])
                .astimezone(UTC)
                .replace(tzinfo=None),
                "error_type": record["error_type"],
                "error": record["error"],
            }
            for path in sorted(settings.failure_dir.glob("*/*.json"))
            for record in [json.loads(path.read_text(encoding="utf-8"))]
        ],
        schema=_FAILURES_SCHEMA,
    )
    quarantine = _QUARANTINE_SCHEMA.empty_table()
    if any(settings.quarantine_dir.glob("*/load_date=*/*.parquet")):
        with connect_duckdb() as duck:
            quarantine = (
                duck.execute(
                    "select source, table_name, item, reason, detail, decode(raw_content) as "
                    "raw_json, run_id, cast(quarantined_at as varchar) as quarantined_at, "
                    "cast(load_date as date) as load_date from read_parquet(?, "
                    "hive_partitioning = true, union_by_name = true)",
                    [str(settings.quarantine_dir / "*" / "load_date=*" / "*.parquet")],
                )
                .fetch_record_batch()
                .read_all()
            )
    registry = write_registry_snapshot(settings)
    tables = {
        "quarantine": quarantine,
        "runs": runs,
        "run_tables": run_tables,
        "failures": failures,
        "registry": pq.read_table(registry),
    }
    with psycopg.connect(conninfo, autocommit=True) as pg:
        for name, arrow in tables.items():
            copy_arrow_to_postgres(pg, "_lake", name, arrow.schema, arrow.to_batches())
    return {name: arrow.num_rows for name, arrow in tables.items()}
