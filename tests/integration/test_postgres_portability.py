"""The dbt project is portable: the whole project builds on dbt-postgres and every mart holds the
same rows there as on DuckDB.

PostgreSQL cannot read Parquet, so the landed lake is first copied into a scratch database
(``iochub.lake_meta.load_lake_into_postgres``: ``"<source>"."<table>"``, where the generated
dbt sources resolve on dbt-postgres, and the lake's quarantine, manifests and registry snapshot
into schema ``_lake``). Then ``dbt build --target postgres`` runs the whole project: every model,
seed, data test and unit test must pass. Finally every table of the marts, reference and meta
schemas is compared row by row with the DuckDB build (numbers to 9 significant digits); only
the columns that depend on the moment of the build differ by nature and are left out.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from iochub.settings import Settings
from iochub.warehouse import dbt_args
from tests.pg_scratch import PG_SERVER
from tests.pg_scratch import scratch_database as scratch

pytestmark = pytest.mark.integration

COMPARED_SCHEMAS = ("marts", "reference", "meta")
# Columns computed from the build's own clock; everything else must be equal.
BUILD_TIME_COLUMNS = {
    "meta_source_freshness": {"built_at", "hours_since_success", "is_stale"},
    "alerts": {"as_of"},  # the build time, for the rules on sources
}
# Written by the publish gate after dbt, not by a model.
NOT_DBT = {"gate_result"}


@pytest.fixture(scope="module")
def built_duckdb(province_warehouse: Settings) -> Settings:
    return province_warehouse


@pytest.fixture(scope="module")
def scratch_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped at the end."""
    with scratch(f"iochub_dbt_portability_{os.getpid()}") as name:
        yield name


def _dbt_postgres(settings: Settings, database: str, target: Path, *args: str) -> dict[str, Any]:
    """Run ``dbt build --target postgres`` with ``args``; dbt's result per node."""
    subprocess.run(
        [
            str(settings.dbt_executable),
            *dbt_args(settings, "build"),
            "--target",
            "postgres",
            "--target-path",
            str(target),
            *args,
        ],
        env={**os.environ, **settings.tool_environment(), "IOC_DBT_PG_DBNAME": database},
        check=False,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {
        r["unique_id"]: {"status": r["status"], "message": r.get("message") or ""} for r in results
    }


@pytest.fixture(scope="module")
def built_postgres(built_duckdb: Settings, scratch_database: str) -> dict[str, Any]:
    """The lake loaded into the scratch database, then the whole project on dbt-postgres."""
    from iochub.lake_meta import load_lake_into_postgres

    assert load_lake_into_postgres(built_duckdb, f"{PG_SERVER}/{scratch_database}"), (
        "no lake table loaded"
    )
    return _dbt_postgres(built_duckdb, scratch_database, built_duckdb.home / "pg_target")


def test_whole_project_builds_on_postgres(
    built_duckdb: Settings, built_postgres: dict[str, Any]
) -> None:
    on_duckdb = json.loads((built_duckdb.home / "dbt_target" / "run_results.json").read_text())
    expected = {r["unique_id"] for r in on_duckdb["results"]}
    missing = sorted(expected - built_postgres.keys())
    assert not missing, f"{len(missing)} node(s) built on DuckDB did not run on postgres: {missing}"
    broken = {n: r for n, r in built_postgres.items() if r["status"] not in ("success", "pass")}
    assert not broken, f"{len(broken)} node(s) fail on dbt-postgres:\n" + "\n".join(
        f"{node} [{r['status']}]: {' '.join(r['message'].split())[:300]}"
        for node, r in sorted(broken.items())
    )


def _normal(value: object) -> object:
    """A value both adapters give alike: numbers to 9 significant digits (DuckDB and
    PostgreSQL sum doubles in different orders), timestamps naive, the rest as text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        return float(f"{float(value):.9g}")
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat()
    return str(value)


def _table_rows(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)


def test_every_mart_equal_on_both_adapters(
    built_duckdb: Settings, scratch_database: str, built_postgres: dict[str, Any]
) -> None:
    broken = [n for n, r in built_postgres.items() if r["status"] not in ("success", "pass")]
    if broken:
        pytest.fail("the project did not build on postgres (see the test above)")
    differences: list[str] = []
    compared = 0
    with (
        duckdb.connect(str(built_duckdb.build_db), read_only=True) as duck,
        psycopg.connect(f"{PG_SERVER}/{scratch_database}") as pg,
    ):
        tables = duck.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in (?, ?, ?) order by all",
            list(COMPARED_SCHEMAS),
        ).fetchall()
        for schema, table in tables:
            if table in NOT_DBT:
                continue
            columns = [
                name
                for (name,) in duck.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if name not in BUILD_TIME_COLUMNS.get(table, set())
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            on_duckdb = _table_rows(
                duck.execute(f'select {select} from {schema}."{table}"').fetchall()
            )
            on_postgres = _table_rows(
                pg.execute(f'select {select} from {schema}."{table}"').fetchall()
            )
            compared += 1
            if on_duckdb != on_postgres:
                only_duck = set(on_duckdb) - set(on_postgres)
                only_pg = set(on_postgres) - set(on_duckdb)
                example = dict(zip(columns, next(iter(only_duck or only_pg), ()), strict=False))
                differences.append(
                    f"{schema}.{table}: {len(on_duckdb)} rows on duckdb, {len(on_postgres)} on "
                    f"postgres; {len(only_duck)} only on duckdb, {len(only_pg)} only on "
                    f"postgres, e.g. {example}"
                )
    assert compared >= 30, f"only {compared} tables compared"
    assert not differences, "\n".join(differences)


def test_lake_loader_round_trips(built_duckdb: Settings, scratch_database: str) -> None:
    """Every landed table has the same row count in PostgreSQL as in the lake, and so have the
    lake's records: quarantined rows, committed runs and their per-table counts. (Runs last:
    reloading a table drops the dbt views over it.)"""
    from connectors.landing import read_manifests
    from iochub.lake_meta import load_lake_into_postgres, load_lake_records_into_postgres

    conninfo = f"{PG_SERVER}/{scratch_database}"
    records = load_lake_records_into_postgres(built_duckdb, conninfo)
    manifests = [
        m
        for folder in built_duckdb.manifest_dir.iterdir()
        for m in read_manifests(built_duckdb, folder.name)
    ]
    assert records["runs"] == len(manifests) > 0
    assert records["run_tables"] == sum(len(m.rows_in) for m in manifests)
    quarantined = sum(sum(m.rows_quarantined.values()) for m in manifests)
    with psycopg.connect(conninfo) as pg:
        in_pg = pg.execute(
            "select count(*) from _lake.quarantine where table_name is not null"
        ).fetchall()[0][0]
    assert in_pg == quarantined > 0, f"quarantined rows: manifests {quarantined}, postgres {in_pg}"

    loaded = load_lake_into_postgres(built_duckdb, conninfo)
    with duckdb.connect() as con, psycopg.connect(f"{PG_SERVER}/{scratch_database}") as pg:
        for name, rows in loaded.items():
            source, table = name.split(".")
            pattern = Path(built_duckdb.raw_dir, source, table, "*", "*.parquet")
            in_lake = con.execute(
                "select count(*) from read_parquet(?, union_by_name = true)", [str(pattern)]
            ).fetchall()[0][0]
            in_pg = pg.execute(f'select count(*) from "{source}"."{table}"').fetchall()[0][0]
            assert in_lake == in_pg == rows, f"{name}: lake {in_lake}, postgres {in_pg}"
