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
from typing import cast
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

Row = Sequence[object]


def _with_database(url: str, database: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{database}"))


_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_BOOL = {True: "t", False: "f"}


def _copy_one(v: object) -> str:
    if v is None:
        return "\\N"
    if v is True or v is False:
        return "t" if v else "f"
    return str(v).translate(_ESCAPE)


def _copy_text(values: Sequence[object]) -> Sequence[str]:
    """One column in PostgreSQL's COPY text format (``\\N`` for NULL, ``t``/``f`` booleans).

    Whole-column conversions (``map`` over C-level functions) where the column has one type.
    """
    kinds = set(map(type, values))
    if kinds == {str}:
        strings: Sequence[str] = values  # type: ignore[assignment]
        joined = "".join(strings)
        if any(c in joined for c in "\\\t\n\r"):
            return [v.translate(_ESCAPE) for v in strings]
        return strings
    if kinds == {bool}:
        return list(map(_BOOL.__getitem__, cast("Sequence[bool]", values)))
    if kinds == {int}:
        return list(map(str, values))
    return list(map(_copy_one, values))


class Database:
    """A freshly created database; ``table()`` creates a table, ``insert()`` bulk-loads rows."""

    def __init__(self, name: str, pg_url: str | None, sqlite_path: Path) -> None:
        self.name = name
        self._pg: psycopg.Connection | None = None
        self._lite: sqlite3.Connection | None = None
        self._keys: list[str] = []
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
        if self._pg is not None:
            # The key is added after the bulk load (one index build instead of millions of
            # inserts into it); the database is not handed over before ``close()``.
            self._pg.execute(f"CREATE TABLE {name} ({body})")  # DDL from our own constants
            self._keys.append(f"ALTER TABLE {name} ADD PRIMARY KEY ({primary_key})")
            return
        ddl = f"CREATE TABLE {name} ({body}, PRIMARY KEY ({primary_key}))"
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

    def insert_columns(
        self, table: str, columns: list[str], data: Sequence[Sequence[object]]
    ) -> int:
        """Bulk-load rows given column-wise (one list per column, all the same length).

        Values are ``str`` (dates as ISO text), ``int``, ``bool`` or ``None``. PostgreSQL gets one
        COPY text block per call, built with joins (no per-row Python call); SQLite gets
        ``executemany`` over the zipped columns.
        """
        count = len(data[0]) if data else 0
        if count == 0:
            return 0
        if self._pg is not None:
            text_columns = [_copy_text(values) for values in data]
            block = "\n".join(map("\t".join, zip(*text_columns, strict=True))) + "\n"
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with self._pg.cursor() as cur, cur.copy(statement) as copy:
                copy.write(block.encode("utf-8"))
            return count
        assert self._lite is not None
        marks = ", ".join("?" for _ in columns)
        self._lite.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            zip(*data, strict=True),
        )
        return count

    def close(self) -> None:
        if self._pg is not None:
            for statement in self._keys:
                self._pg.execute(statement)  # built from our own constants
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
