"""Publish: the gated build warehouse becomes the serving warehouse in one atomic step.

The published schemas (``marts``, ``meta``, ``reference``, and ``geo``: the map layers) are
copied table by table from ``build.duckdb`` into a new file beside ``serving.duckdb``, which then
replaces it with ``os.replace``. Readers (Superset, read-only) see either the old file or the
new one, never a half-written one; staging views, which point into the lake, never reach the
serving side.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from iochub.duckdb_connect import connect_duckdb

log = logging.getLogger(__name__)

PUBLISHED_SCHEMAS = ("marts", "meta", "reference", "geo")


def publish(build_db: Path, serving_db: Path) -> dict[str, int]:
    """Copy the published schemas of ``build_db`` into ``serving_db`` atomically.

    Returns the row count of each published table.
    """
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving_db.with_name(f".{serving_db.stem}.{uuid.uuid4().hex}.duckdb")
    counts: dict[str, int] = {}
    try:
        with connect_duckdb(str(tmp)) as con:
            con.execute(f"attach '{build_db}' as build (read_only)")
            tables = con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where database_name = 'build' and schema_name in "
                f"({', '.join(repr(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2"
            ).fetchall()
            if not tables:
                raise RuntimeError(f"{build_db} has no published tables: run the build first")
            for schema, table in tables:
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(
                    f'create table "{schema}"."{table}" as select * from build."{schema}"."{table}"'
                )
                row = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
                counts[f"{schema}.{table}"] = int(row[0]) if row else 0
            con.execute("detach build")
            con.execute("checkpoint")
        os.replace(tmp, serving_db)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("published %d tables to %s", len(counts), serving_db)
    return counts
