"""Where each agriculture system's records go, by kind: databases, workbooks, API files, drops.

A sink receives one delivery at a time (``write(table, rows, day)``) so nothing larger than a
delivery is held in memory. PostgreSQL / MariaDB systems fall back to SQLite files under
``<sim>/agriculture/<code>.sqlite`` when the run has no server.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import openpyxl

from simulator.agriculture.tables import COMMON, TABLES

Row = tuple[Any, ...]
FIXED_TIME = datetime(2025, 1, 1)  # workbook properties and zip entries: same bytes every run
SQL_TYPES = {
    "sqlite": {"text": "TEXT", "date": "TEXT", "int": "INTEGER", "real": "REAL"},
    "postgres": {"text": "TEXT", "date": "DATE", "int": "BIGINT", "real": "DOUBLE PRECISION"},
    "mariadb": {"text": "VARCHAR(255)", "date": "DATE", "int": "BIGINT", "real": "DOUBLE"},
}


def columns(table: str) -> list[tuple[str, str]]:
    return COMMON + [(c.name, c.kind) for c in TABLES[table].columns]


def database_name(code: str, prefix: str = "sim_") -> str:
    return f"{prefix}agri_{code.lower()}"


class Sink:
    """One system's destination; subclasses implement :meth:`write`."""

    def __init__(self, code: str, tables: list[str], out: Path) -> None:
        self.code = code
        self.tables = tables
        self.out = out

    def write(self, table: str, rows: list[Row], day: date) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to flush unless the sink holds a connection."""

    def location(self) -> str:
        raise NotImplementedError


class SqlSink(Sink):
    """A relational database: PostgreSQL, MariaDB or (fallback) SQLite."""

    def __init__(
        self,
        code: str,
        tables: list[str],
        out: Path,
        dialect: str,
        server_url: str | None,
        db_prefix: str,
    ) -> None:
        super().__init__(code, tables, out)
        self.dialect = dialect if server_url else "sqlite"
        self.server_url = server_url
        self.db_prefix = db_prefix
        self.conn: Any = self._connect()
        types = SQL_TYPES[self.dialect]
        cur = self.conn.cursor()
        for table in tables:
            cols = ", ".join(f"{name} {types[kind]}" for name, kind in columns(table))
            cur.execute(f"CREATE TABLE {table} ({cols})")
        self.conn.commit()

    def _connect(self) -> Any:
        name = database_name(self.code, self.db_prefix)
        if self.dialect == "sqlite":
            path = self.out / f"{self.code}.sqlite"
            path.unlink(missing_ok=True)
            return sqlite3.connect(path)
        assert self.server_url is not None
        if self.dialect == "postgres":
            import psycopg

            with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                admin.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
            return psycopg.connect(f"{self.server_url}/{name}")
        import pymysql  # type: ignore[import-untyped]

        url = urlparse(self.server_url)
        params = {
            "host": url.hostname or "127.0.0.1",
            "port": url.port or 3306,
            "user": url.username or "root",
            "password": url.password or "",
            "charset": "utf8mb4",
        }
        admin = pymysql.connect(**params)
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
            cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        admin.close()
        return pymysql.connect(database=name, **params)

    def write(self, table: str, rows: list[Row], day: date) -> None:
        names = [name for name, _ in columns(table)]
        if self.dialect == "postgres":
            with (
                self.conn.cursor() as cur,
                cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["?" if self.dialect == "sqlite" else "%s"] * len(names))
        # sqlite3 has no DATE type (ISO text); pymysql converts date objects itself.
        data = (
            [tuple(v.isoformat() if isinstance(v, date) else v for v in r) for r in rows]
            if self.dialect == "sqlite"
            else rows
        )
        cur = self.conn.cursor()
        cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", data)

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()

    def location(self) -> str:
        if self.dialect == "sqlite":
            return f"sqlite:agriculture/{self.code}.sqlite"
        return f"{self.dialect}:{database_name(self.code, self.db_prefix)}"


class XlsxSink(Sink):
    """Monthly report workbooks, one per template: ``reports/<template>/<yyyy-mm>.xlsx``."""

    def __init__(
        self, code: str, tables: list[str], out: Path, rng: np.random.Generator, rate: float
    ) -> None:
        super().__init__(code, tables, out)
        self.rng = rng
        self.rate = rate  # share of workbooks with a shifted header
        self.header_shifts: list[str] = []  # workbooks written with an extra row above the header

    def write(self, table: str, rows: list[Row], day: date) -> None:
        folder = self.out / "reports" / table
        folder.mkdir(parents=True, exist_ok=True)
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = table[:31]
        ws.append([f"BÁO CÁO {table.upper()} — THÁNG {day:%m/%Y}"])
        ws.append(["Đơn vị báo cáo: Sở Nông nghiệp và Môi trường tỉnh Đồng Tháp"])
        path = folder / f"{day:%Y-%m}.xlsx"
        if self.rng.random() < self.rate:
            # The officer pasted a note above the header: the header moves one row down.
            ws.append(["Ghi chú: số liệu sơ bộ, sẽ cập nhật"])
            self.header_shifts.append(str(path.relative_to(self.out)))
        ws.append([name for name, _ in columns(table)])
        for row in rows:
            ws.append([v.isoformat() if isinstance(v, date) else v for v in row])
        wb.properties.created = FIXED_TIME
        wb.properties.creator = "iochub simulator"
        buffer = io.BytesIO()
        wb.save(buffer)
        path.write_bytes(_fixed_zip(buffer.getvalue()))

    def location(self) -> str:
        return "xlsx:agriculture/reports/<template>/<yyyy-mm>.xlsx"


def _fixed_zip(data: bytes) -> bytes:
    """Re-pack a workbook with fixed times: openpyxl stamps ``now`` on the zip entries and on
    the core properties' ``modified`` whatever the workbook says."""
    out = io.BytesIO()
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, content)
    return out.getvalue()


class ApiSink(Sink):
    """What an API system holds, as JSON Lines per table read by ``simulator.agriculture.api``."""

    def __init__(self, code: str, tables: list[str], out: Path) -> None:
        super().__init__(code, tables, out)
        for table in tables:  # deliveries append: start from empty files
            (out / "api" / code / f"{table}.jsonl").unlink(missing_ok=True)

    def write(self, table: str, rows: list[Row], day: date) -> None:
        folder = self.out / "api" / self.code
        folder.mkdir(parents=True, exist_ok=True)
        names = [name for name, _ in columns(table)]
        with (folder / f"{table}.jsonl").open("a", encoding="utf-8") as f:
            for row in rows:
                record = {
                    k: (v.isoformat() if isinstance(v, date) else v)
                    for k, v in zip(names, row, strict=True)
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def location(self) -> str:
        return f"http://127.0.0.1:18800/api/{self.code}/<table>"


class DropSink(Sink):
    """Files dropped per delivery: ``drops/<code>/<table>_<yyyy-mm-dd>.csv|json``."""

    def __init__(self, code: str, tables: list[str], out: Path, fmt: str) -> None:
        super().__init__(code, tables, out)
        self.fmt = fmt

    def write(self, table: str, rows: list[Row], day: date) -> None:
        folder = self.out / "drops" / self.code
        folder.mkdir(parents=True, exist_ok=True)
        names = [name for name, _ in columns(table)]
        values = [[v.isoformat() if isinstance(v, date) else v for v in r] for r in rows]
        path = folder / f"{table}_{day.isoformat()}.{self.fmt}"
        if self.fmt == "csv":
            with path.open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(names)
                writer.writerows(values)
        else:
            records = [dict(zip(names, v, strict=True)) for v in values]
            path.write_text(
                json.dumps(
                    {"system": self.code, "table": table, "records": records},
                    ensure_ascii=False,
                    indent=1,
                )
                + "\n",
                encoding="utf-8",
            )

    def location(self) -> str:
        return f"{self.fmt}:agriculture/drops/{self.code}/<table>_<yyyy-mm-dd>.{self.fmt}"
