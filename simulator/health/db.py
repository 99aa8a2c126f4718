"""Where the health registry's tables go: a PostgreSQL database of its own, or a SQLite file.

The real registry runs on a relational server; the simulator recreates ``sim_<name>`` from
scratch on every run (dropping it first keeps runs deterministic) and bulk-loads rows with COPY.
Without a server the same tables, same columns, go to ``<out>/health/<name>.sqlite``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

Row = Sequence[object]


def _with_database(url: str, database: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{database}"))


class Database:
    """A freshly created database; ``table()`` creates a table, ``insert()`` bulk-loads rows."""

    def __init__(self, name: str, pg_url: str | None, sqlite_path: Path) -> None:
        self.name = name
        self._pg: psycopg.Connection | None = None
        self._lite: sqlite3.Connection | None = None
        if pg_url:
            with psycopg.connect(_with_database(pg_url, "postgres"), autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.name)
                    )
                )
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
            self._pg = psycopg.connect(_with_database(pg_url, self.name))
            self.location = _with_database(pg_url, self.name)
        else:
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            sqlite_path.unlink(missing_ok=True)
            self._lite = sqlite3.connect(sqlite_path)
            self.location = str(sqlite_path)

    def table(self, name: str, columns: list[tuple[str, str]], primary_key: str) -> None:
        """Create a table; column types are SQL types both engines accept (TEXT, INTEGER, DATE,
        BOOLEAN, TIMESTAMP)."""
        body = ", ".join(f"{c} {t}" for c, t in columns)
        ddl = f"CREATE TABLE {name} ({body}, PRIMARY KEY ({primary_key}))"
        if self._pg is not None:
            self._pg.execute(ddl)  # DDL built from our own constants
        else:
            assert self._lite is not None
            self._lite.execute(ddl)

    def insert(self, table: str, columns: list[str], rows: Iterable[Row]) -> int:
        count = 0
        if self._pg is not None:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with self._pg.cursor() as cur, cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        assert self._lite is not None
        marks = ", ".join("?" for _ in columns)
        # SQLite stores dates as ISO text and booleans as 0/1, as its own tools expect.
        converted = [
            tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows
        ]
        self._lite.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", converted
        )
        return len(converted)

    def close(self) -> None:
        if self._pg is not None:
            self._pg.commit()
            self._pg.close()
        if self._lite is not None:
            self._lite.commit()
            self._lite.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
