"""The ``sql`` kind: relational systems (PostgreSQL, MySQL/MariaDB, SQLite) landed into the lake.

Rows are read with connectorx as a stream of Arrow record batches of ``sql.chunk_rows`` rows, so
memory stays bounded by a chunk (plus the landing buffer) whatever the table's size; each batch
gets the lineage columns ``_run_id`` and ``_extracted_at`` and goes to ``run.land`` (contract,
pseudonymisation, Parquet part).

Two ways to read a table:

- **incremental** (the table declares ``incremental.cursor``): only rows whose cursor is past the
  last committed watermark (minus ``lag_hours``), the watermark then moves to the highest cursor
  read. The whole run commits at once (manifest last), so the rows need no order: a run that dies
  leaves the old watermark and the re-run reads the same rows again.
- **full refresh with change detection** (no cursor, e.g. catalogues and child tables): the table
  is read whole and an order-independent fingerprint (row count + sum of DuckDB row hashes) is
  compared with the one committed last time; it lands only when the content changed. The
  fingerprint is stored as the table's watermark.

``--full-refresh`` ignores both and lands everything again.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from queue import Queue
from threading import Thread
from urllib.parse import unquote, urlparse, urlunparse

import connectorx as cx
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pymysql  # type: ignore[import-untyped,unused-ignore]

from connectors.kinds.base import ExtractRun, SourceUnavailable
from connectors.registry import SqlSpec, TableSpec
from iochub.duckdb_connect import connect_duckdb

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5  # connectorx's own pool waits 30 s on a dead server: we probe first


@dataclass(frozen=True)
class Database:
    """A resolved database: the connectorx URL and its dialect (for quoting)."""

    url: str
    dialect: str  # postgres | mysql | sqlite

    @property
    def shown(self) -> str:
        """The URL without its password, for messages and logs."""
        return redact(self.url)


def redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
    return urlunparse(parsed._replace(netloc=netloc))


def parse_database(value: str) -> Database:
    """The dialect of a connection value; a bare path (no scheme) is a SQLite file."""
    scheme = urlparse(value).scheme.lower()
    if scheme in ("postgres", "postgresql"):
        return Database(value, "postgres")
    if scheme in ("mysql", "mariadb"):
        # connectorx speaks the MySQL protocol under the ``mysql`` scheme only.
        return Database("mysql" + value[len(scheme) :], "mysql")
    if scheme == "sqlite":
        # SQLAlchemy writes an absolute path with four slashes (sqlite:////srv/x.sqlite);
        # connectorx and the registry's {sim} placeholder with three.
        rest = value[len("sqlite://") :]
        return Database("sqlite://" + ("/" + rest.lstrip("/") if rest else rest), "sqlite")
    if scheme in ("", "file"):
        path = Path(urlparse(value).path if scheme == "file" else value).resolve()
        return Database(f"sqlite://{path}", "sqlite")
    raise SourceUnavailable(
        f"connection {redact(value)}: unsupported scheme {scheme!r} "
        "(use postgresql://, mysql://, mariadb://, sqlite:// or a .sqlite file path)"
    )


def sqlite_path(db: Database) -> Path:
    return Path(unquote(db.url[len("sqlite://") :]))


def probe(db: Database) -> str | None:
    """Why the database cannot be read (None when it answers), within a few seconds."""
    try:
        if db.dialect == "sqlite":
            path = sqlite_path(db)
            if not path.is_file():
                return f"SQLite file {path} does not exist"
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as lite:
                lite.execute("SELECT 1").fetchone()
            return None
        parsed = urlparse(db.url)
        if db.dialect == "postgres":
            with psycopg.connect(db.url, connect_timeout=CONNECT_TIMEOUT_S) as pg:
                pg.execute("SELECT 1").fetchone()
            return None
        my = pymysql.connect(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 3306,
            user=unquote(parsed.username or "root"),
            password=unquote(parsed.password or ""),
            database=parsed.path.lstrip("/") or None,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
        my.close()
        return None
    except (OSError, sqlite3.Error, psycopg.Error, pymysql.MySQLError) as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def resolve_database(run: ExtractRun) -> Database:
    """The database to read: the connection URL, or the declared SQLite fallback when the
    connection is the default one and that server cannot be read."""
    source = run.source
    spec = source.sql or SqlSpec()
    connection = source.connection
    db = parse_database(run.connection())
    problem = probe(db)
    if problem is None:
        return db
    from_env = bool(connection.env and os.environ.get(connection.env))
    if spec.fallback and not from_env:
        fallback = parse_database(
            connection.model_copy(update={"default": spec.fallback, "env": "_unset_"}).resolve(
                run.settings, {}
            )
        )
        if probe(fallback) is None:
            log.warning(
                "%s: %s cannot be read (%s); reading the SQLite fallback %s",
                source.name,
                db.shown,
                problem,
                fallback.shown,
            )
            return fallback
    where = f"set {connection.env}" if connection.env else "check the Airflow connection"
    raise SourceUnavailable(
        f"{source.name}: cannot read {db.shown}: {problem}. Check that the server is running and "
        f"reachable and that the database exists, or {where} to the right URL"
        + (f" (demo without servers: the SQLite file {spec.fallback})" if spec.fallback else "")
        + "."
    )


def quote(db: Database, name: str) -> str:
    if db.dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def literal(db: Database, value: str) -> str:
    text = value.replace("'", "''")
    if db.dialect == "mysql":
        text = text.replace("\\", "\\\\")  # MySQL treats backslash as an escape in literals
    return f"'{text}'"


def base_query(db: Database, table: TableSpec) -> str:
    if table.query:
        return f"SELECT * FROM ({table.query}) AS src"
    assert table.table is not None, "the registry requires table or query"
    return f"SELECT * FROM {quote(db, table.table)}"


def cursor_text(value: object) -> str | None:
    """A cursor value as the text a watermark holds (ISO for dates and timestamps)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _prefetched(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Read the next batches in a background thread while the caller lands this one.

    connectorx fetches and converts outside the GIL, so reading the database overlaps the
    landing contract's work on the other core instead of waiting for it.
    """
    queue: Queue[pa.RecordBatch | BaseException | None] = Queue(maxsize=depth)

    def pump() -> None:
        try:
            for batch in batches:
                queue.put(batch)
            queue.put(None)
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(exc)

    Thread(target=pump, name="sql-prefetch", daemon=True).start()
    while (item := queue.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item


def stream(db: Database, query: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    try:
        reader = cx.read_sql(db.url, query, return_type="arrow_stream", batch_size=chunk_rows)
        yield from _prefetched(iter(reader))
    except RuntimeError as exc:
        raise SourceUnavailable(
            f"query on {db.shown} failed: {str(exc).strip().splitlines()[0]}. Query: {query}"
        ) from exc


def with_lineage(batch: pa.RecordBatch, run_id: str) -> pa.Table:
    n = batch.num_rows
    now = pa.scalar(datetime.now(UTC), pa.timestamp("us", tz="UTC"))
    table = pa.Table.from_batches([batch])
    # Constant columns built in Arrow (a Python list of 100,000 datetimes costs 0.3 s).
    table = table.append_column("_run_id", pa.repeat(pa.scalar(run_id, pa.string()), n))
    return table.append_column("_extracted_at", pa.repeat(now, n))


class Fingerprint:
    """Order-independent content hash of a table read in batches: row count + the sum of
    DuckDB's per-row hash, with the column names and types (a new column changes it)."""

    def __init__(self) -> None:
        self.rows = 0
        self.total = 0
        self.schema = ""
        self._con = connect_duckdb()

    def add(self, batch: pa.RecordBatch) -> None:
        if not self.schema:
            self.schema = ",".join(f"{f.name}:{f.type}" for f in batch.schema)
        if batch.num_rows == 0:
            return
        columns = ", ".join('"' + n.replace('"', '""') + '"' for n in batch.schema.names)
        self._con.register("fp_batch", batch)
        row = self._con.execute(
            f"SELECT count(*), COALESCE(sum(hash({columns})::HUGEINT), 0) FROM fp_batch"
        ).fetchone()
        self._con.unregister("fp_batch")
        assert row is not None
        self.rows += int(row[0])
        self.total += int(row[1])

    def value(self) -> str:
        digest = (self.total + hash_text(self.schema)) % 2**64
        return f"rows={self.rows};sum={digest:016x}"


def hash_text(text: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def extract_incremental(run: ExtractRun, db: Database, table: TableSpec, spec: SqlSpec) -> None:
    assert table.incremental is not None
    cursor = table.incremental.cursor
    since = run.since(table)
    query = base_query(db, table)
    if since is not None:
        # Past the committed watermark itself (those rows are landed) unless a lag window or
        # --since asks to re-read from a point, where the boundary is included.
        exact = since == run.state.watermarks.get(table.name) and not run.options.since
        op = ">" if exact else ">="
        query += f" WHERE {quote(db, cursor)} {op} {literal(db, since)}"
    rows = 0
    for batch in stream(db, query, spec.chunk_rows):
        if batch.num_rows == 0:
            continue
        if cursor not in batch.schema.names:
            raise SourceUnavailable(
                f"{run.source.name}.{table.name}: cursor column {cursor} is not in the result"
            )
        run.land(table, with_lineage(batch, run.run_id))
        rows += batch.num_rows
        run.advance_watermark(table, cursor_text(pc.max(batch.column(cursor)).as_py()))
    log.info("%s.%s: %d row(s) since %s", run.source.name, table.name, rows, since)


def extract_snapshot(run: ExtractRun, db: Database, table: TableSpec, spec: SqlSpec) -> None:
    query = base_query(db, table)
    previous = run.state.watermarks.get(table.name)
    if previous is not None:
        # First pass only decides: an unchanged table costs one read and lands nothing.
        check = Fingerprint()
        for batch in stream(db, query, spec.chunk_rows):
            check.add(batch)
        if check.value() == previous:
            log.info("%s.%s: unchanged (%s)", run.source.name, table.name, previous)
            return
    landed = Fingerprint()  # of what actually lands, in case the table moved in between
    for batch in stream(db, query, spec.chunk_rows):
        landed.add(batch)
        if batch.num_rows:
            run.land(table, with_lineage(batch, run.run_id))
    # A fingerprint is not ordered, so it replaces the watermark instead of advancing it.
    run.manifest.watermark_after[table.name] = landed.value()
    log.info("%s.%s: %d row(s), full refresh", run.source.name, table.name, landed.rows)


def extract_sql(run: ExtractRun) -> None:
    spec = run.source.sql or SqlSpec()
    db = resolve_database(run)
    for table in run.source.tables:
        if table.incremental is not None:
            extract_incremental(run, db, table, spec)
        else:
            extract_snapshot(run, db, table, spec)
