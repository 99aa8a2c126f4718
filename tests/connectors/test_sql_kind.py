"""The ``sql`` kind against the real servers: every relational source of the registry lands whole,
personal data is pseudonymised, incremental and change-detecting reads land exactly what changed,
a dead server fails fast and clearly, and a run killed half-way is simply re-run.

Row counts in the source are taken with the databases' own drivers (psycopg, pymysql, sqlite3),
never through connectorx, and compared with what the manifests say and what the lake holds.
Tests that change rows do it in scratch databases of their own, never in the shared province.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import psycopg
import pymysql  # type: ignore[import-untyped,unused-ignore]
import pytest

from connectors.extract import extract_source
from connectors.kinds.base import ExtractOptions, SourceUnavailable
from connectors.kinds.sql import parse_database
from connectors.landing import BatchWriter, Manifest
from connectors.registry import Source, load_registry
from iochub.settings import Settings

HMAC = re.compile(r"^[0-9a-f]{64}$")
PG = "postgresql://postgres@127.0.0.1:5432"
MY = "mysql://root@127.0.0.1:3306"
SCRATCH = f"iochub_sqlt_{os.getpid()}"


def count_rows(url: str, table: str) -> int:
    """Rows of ``table`` as the database itself counts them."""
    db = parse_database(url)
    if db.dialect == "postgres":
        with psycopg.connect(db.url) as pg:
            row = pg.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    elif db.dialect == "mysql":
        parsed = urlparse(db.url)
        my = pymysql.connect(
            host=parsed.hostname, port=parsed.port, user="root", database=parsed.path[1:]
        )
        try:
            with my.cursor() as cur:
                cur.execute(f"SELECT count(*) FROM `{table}`")
                row = cur.fetchone()
        finally:
            my.close()
    else:
        with sqlite3.connect(db.url[len("sqlite://") :]) as lite:
            row = lite.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    assert row is not None
    return int(row[0])


def landed(settings: Settings, source: str, table: str, columns: str = "*") -> list[Any]:
    """Rows of committed parts on disk (every part there must be listed in a manifest)."""
    root = settings.raw_dir / source / table
    if not list(root.rglob("*.parquet")):
        return []
    return duckdb.sql(f"SELECT {columns} FROM read_parquet('{root}/*/*.parquet')").fetchall()


def lake_files_are_committed(settings: Settings, source: str) -> None:
    on_disk = {
        p.relative_to(settings.lake_dir).as_posix()
        for p in (settings.raw_dir / source).rglob("*.parquet*")
    }
    listed = {t.path for m in read_all(settings, source) for t in m.tables}
    assert on_disk == listed, f"uncommitted or missing parts: {on_disk ^ listed}"


def read_all(settings: Settings, source: str) -> list[Manifest]:
    from connectors.landing import read_manifests

    return read_manifests(settings, source)


def test_every_relational_source_lands_whole(lake_home: Settings) -> None:
    sources = [s for s in load_registry(lake_home).values() if s.kind == "sql" and s.simulated]
    assert sources, "the demo province simulates no relational system"
    for source in sources:
        url = source.connection.resolve(lake_home, dict(os.environ))
        began = time.perf_counter()
        manifest = extract_source(source, lake_home)
        seconds = time.perf_counter() - began
        print(f"{source.name}: {sum(manifest.rows_in.values())} rows in {seconds:.2f} s")
        for table in source.tables:
            assert table.table is not None
            in_source = count_rows(url, table.table)
            assert in_source > 0, f"{source.name}.{table.name}: the province has no rows"
            rows_in = manifest.rows_in.get(table.name, 0)
            assert rows_in == in_source, f"{source.name}.{table.name}"
            ok = manifest.rows_landed.get(table.name, 0)
            bad = manifest.rows_quarantined.get(table.name, 0)
            assert ok + bad == in_source, f"{source.name}.{table.name}"
            assert len(landed(lake_home, source.name, table.name)) == ok
        lake_files_are_committed(lake_home, source.name)

        # Nothing changed in the source: a second run reads and lands nothing.
        again = extract_source(source, lake_home)
        assert sum(again.rows_in.values()) == 0, f"{source.name}: {again.rows_in}"
        assert again.watermark_after == manifest.watermark_after


def test_personal_data_lands_pseudonymised(lake_home: Settings) -> None:
    sources = load_registry(lake_home)
    extract_source(sources["one_stop"], lake_home)
    extract_source(sources["ehr_registry"], lake_home)
    one_stop = landed(lake_home, "one_stop", "ho_so", "ChuHoSo, SoGiayToChuHoSo, SoDienThoai")
    persons = landed(lake_home, "ehr_registry", "persons", "citizen_id, full_name, birth_date")
    assert one_stop and persons
    for row in [*one_stop, *[r[:2] for r in persons]]:
        assert all(v is None or HMAC.match(v) for v in row), row
    assert all(re.fullmatch(r"(19|20)\d\d", r[2]) for r in persons)
    # And the clear values are nowhere in the lake's rows.
    url = sources["ehr_registry"].connection.resolve(lake_home, dict(os.environ))
    with psycopg.connect(url) as pg:
        clear = {r[0] for r in pg.execute("SELECT citizen_id FROM persons LIMIT 500")}
    assert clear and not clear & {r[0] for r in persons}


# -- scratch databases: rows we change ourselves ---------------------------------------------


def _pg_admin(statement: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as pg:
        pg.execute(statement)


def _my_admin(statement: str, database: str | None = None) -> None:
    my = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database)
    try:
        with my.cursor() as cur:
            # MariaDB stops recursive CTEs at 1,000 rows by default.
            cur.execute("SET SESSION max_recursive_iterations = 100000")
            cur.execute(statement)
        my.commit()
    finally:
        my.close()


Executor = Callable[[str], None]


class Killed(Exception):
    """Stands for the process dying (OOM, SIGKILL, a deploy) half-way through a run."""


@pytest.fixture(params=["postgres", "mysql", "sqlite"])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Executor]]:
    """A database of our own with ``events`` (cursor updated_at) and ``catalogue`` (no cursor):
    its URL and a function running SQL in it."""
    dialect = request.param
    run: Executor
    if dialect == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{SCRATCH}"')
        url = f"{PG}/{SCRATCH}"

        def run(sql: str) -> None:
            with psycopg.connect(url, autocommit=True) as pg:
                pg.execute(sql)

        series = "SELECT g, 'Nguyễn Văn ' || g, lpad(g::text, 12, '0'), "
        series += "TIMESTAMP '2025-06-01' + g * INTERVAL '1 minute', g * 1000 "
        series += "FROM generate_series(1, 2500) g"
    elif dialect == "mysql":
        _my_admin(f"DROP DATABASE IF EXISTS `{SCRATCH}`")
        _my_admin(f"CREATE DATABASE `{SCRATCH}` CHARACTER SET utf8mb4")
        url = f"{MY}/{SCRATCH}"

        def run(sql: str) -> None:
            _my_admin(sql, SCRATCH)

        series = "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 2500) "
        series += "SELECT g, CONCAT('Nguyễn Văn ', g), LPAD(g, 12, '0'), "
        series += "TIMESTAMP '2025-06-01 00:00:00' + INTERVAL g MINUTE, g * 1000 FROM s"
    else:
        path = tmp_path / "scratch.sqlite"
        url = f"sqlite://{path}"

        def run(sql: str) -> None:
            with sqlite3.connect(path) as lite:
                lite.execute(sql)

        series = "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 2500) "
        series += "SELECT g, 'Nguyễn Văn ' || g, printf('%012d', g), "
        series += "datetime('2025-06-01', '+' || g || ' minutes'), g * 1000 FROM s"
    ts = "TIMESTAMP" if dialect != "mysql" else "DATETIME"
    try:  # the database is dropped even when filling it fails
        run(
            "CREATE TABLE events (id BIGINT PRIMARY KEY, full_name VARCHAR(64), citizen_id "
            f"VARCHAR(12), updated_at {ts} NOT NULL, amount BIGINT)"
        )
        run(f"INSERT INTO events (id, full_name, citizen_id, updated_at, amount) {series}")
        run("CREATE TABLE catalogue (code VARCHAR(8) PRIMARY KEY, label VARCHAR(64))")
        run("INSERT INTO catalogue VALUES ('A', 'Một'), ('B', 'Hai'), ('C', 'Ba')")
        yield url, run
    finally:
        if dialect == "postgres":
            _pg_admin(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        elif dialect == "mysql":
            _my_admin(f"DROP DATABASE IF EXISTS `{SCRATCH}`")


def scratch_source(env: str, chunk_rows: int = 1000, fallback: str | None = None) -> Source:
    return Source.model_validate(
        {
            "name": "scratch_sql",
            "sector": "statistics",
            "title": "scratch",
            "owner": "tests",
            "kind": "sql",
            "connection": {"env": env, "default": "postgresql://nobody@127.0.0.1:1/none"},
            "schedule": "@daily",
            "freshness_hours": 24,
            "sql": {"chunk_rows": chunk_rows, **({"fallback": fallback} if fallback else {})},
            "tables": [
                {
                    "name": "events",
                    "title": "events",
                    "table": "events",
                    "primary_key": ["id"],
                    "incremental": {"cursor": "updated_at", "initial": "2000-01-01"},
                    "columns": {
                        "id": {"type": "integer", "required": True},
                        "updated_at": {"type": "timestamp", "required": True},
                        "amount": {"type": "integer", "min": 0},
                    },
                    "pii": {"full_name": "hmac", "citizen_id": "hmac"},
                },
                {
                    "name": "catalogue",
                    "title": "catalogue",
                    "table": "catalogue",
                    "primary_key": ["code"],
                    "columns": {"code": {"required": True}, "label": {}},
                },
            ],
        }
    )


def test_incremental_and_change_detection(
    lake_home: Settings, scratch: tuple[str, Executor], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, run = scratch
    monkeypatch.setenv("IOC_TEST_SCRATCH_URL", url)
    source = scratch_source("IOC_TEST_SCRATCH_URL")

    first = extract_source(source, lake_home)
    assert first.rows_landed == {"events": 2500, "catalogue": 3}
    assert first.watermark_after["events"].startswith("2025-06-02 17:40:00")
    assert extract_source(source, lake_home).rows_in == {}  # nothing changed, nothing read

    # Two updated rows and three new ones, all with a later cursor; one new row breaks the
    # contract (negative amount) and must be quarantined, not lost.
    later = "'2025-07-01 08:00:00'"
    run(f"UPDATE events SET amount = 7, updated_at = {later} WHERE id IN (10, 20)")
    run(
        "INSERT INTO events (id, full_name, citizen_id, updated_at, amount) VALUES "
        f"(3001, 'Lê Thị A', '000000003001', {later}, 1), "
        f"(3002, 'Lê Thị B', '000000003002', {later}, 2), "
        f"(3003, 'Lê Thị C', '000000003003', {later}, -5)"
    )
    third = extract_source(source, lake_home)
    assert third.rows_in == {"events": 5}
    assert third.rows_landed == {"events": 4} and third.rows_quarantined == {"events": 1}
    assert third.watermark_after["events"].startswith("2025-07-01 08:00:00")
    ids = [r[0] for r in landed(lake_home, "scratch_sql", "events", "id")]
    assert len(ids) == 2500 + 4 and set(ids) == set(range(1, 2501)) | {3001, 3002}
    names = landed(lake_home, "scratch_sql", "events", "full_name, citizen_id")
    assert all(HMAC.match(a) and HMAC.match(b) for a, b in names)

    # The cursor-less table lands again only when its content changed.
    run("UPDATE catalogue SET label = 'Hai (sửa)' WHERE code = 'B'")
    fourth = extract_source(source, lake_home)
    assert fourth.rows_in == {"catalogue": 3}
    assert extract_source(source, lake_home).rows_in == {}

    # --full-refresh reads everything again.
    full = extract_source(source, lake_home, ExtractOptions(full_refresh=True))
    assert full.rows_in == {"events": 2503, "catalogue": 3}
    lake_files_are_committed(lake_home, "scratch_sql")


def test_unreachable_server_fails_fast_and_clearly(
    lake_home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_TEST_SCRATCH_URL", "postgresql://ioc:s3cret@127.0.0.1:1/ehr")
    began = time.perf_counter()
    with pytest.raises(SourceUnavailable) as caught:
        extract_source(scratch_source("IOC_TEST_SCRATCH_URL"), lake_home)
    assert time.perf_counter() - began < 10
    message = str(caught.value)
    assert "postgresql://ioc:***@127.0.0.1:1/ehr" in message and "s3cret" not in message
    assert "IOC_TEST_SCRATCH_URL" in message
    assert not read_all(lake_home, "scratch_sql")

    # A database the server does not have is also unavailable, with the server's reason.
    monkeypatch.setenv("IOC_TEST_SCRATCH_URL", f"{MY}/no_such_database_here")
    with pytest.raises(SourceUnavailable, match="no_such_database_here"):
        extract_source(scratch_source("IOC_TEST_SCRATCH_URL"), lake_home)


def test_fallback_only_for_the_default_connection(
    lake_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "fallback.sqlite"
    with sqlite3.connect(path) as lite:
        lite.execute("CREATE TABLE events (id INTEGER, updated_at TEXT, amount INTEGER)")
        lite.execute("INSERT INTO events VALUES (1, '2025-06-01 00:00:00', 3)")
        lite.execute("CREATE TABLE catalogue (code TEXT, label TEXT)")
    monkeypatch.delenv("IOC_TEST_UNSET_URL", raising=False)
    source = scratch_source("IOC_TEST_UNSET_URL", fallback=f"sqlite://{path}")
    manifest = extract_source(source, lake_home)  # the default server is dead: the file is read
    assert manifest.rows_landed == {"events": 1}
    monkeypatch.setenv("IOC_TEST_UNSET_URL", "postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(SourceUnavailable):
        extract_source(source, lake_home)  # a URL the operator gave is never swapped


def test_killed_run_is_rerun_to_the_same_lake(
    lake_home: Settings,
    tmp_path: Path,
    scratch: tuple[str, Executor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = scratch
    monkeypatch.setenv("IOC_TEST_SCRATCH_URL", url)
    source = scratch_source("IOC_TEST_SCRATCH_URL", chunk_rows=500)
    original_init = BatchWriter.__init__
    original_write = BatchWriter._write_part

    def small_parts(self: BatchWriter, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.flush_rows = 500  # a part per chunk, so the run dies with parts on disk

    parts = {"written": 0}

    def dies_after_first_part(self: BatchWriter, table: str, arrow: Any) -> None:
        if parts["written"] == 1:
            raise Killed("killed mid-run")
        original_write(self, table, arrow)
        parts["written"] += 1

    monkeypatch.setattr(BatchWriter, "__init__", small_parts)
    monkeypatch.setattr(BatchWriter, "_write_part", dies_after_first_part)
    with pytest.raises(Killed):
        extract_source(source, lake_home)
    assert list((lake_home.raw_dir / "scratch_sql").rglob("*.parquet")), "no part was written"
    assert not read_all(lake_home, "scratch_sql")

    monkeypatch.setattr(BatchWriter, "_write_part", original_write)
    rerun = extract_source(source, lake_home)
    assert rerun.rows_landed == {"events": 2500, "catalogue": 3}
    assert len(rerun.tables) == 6  # 5 parts of events + 1 of catalogue
    lake_files_are_committed(lake_home, "scratch_sql")
    ids = sorted(r[0] for r in landed(lake_home, "scratch_sql", "events", "id"))
    assert ids == list(range(1, 2501))  # as an uninterrupted run: every row once
