"""The dbt project is portable: the same models build on dbt-postgres and give the same KPIs.

PostgreSQL cannot read Parquet, so the landed lake is first copied into a scratch database
(``iochub.lake_meta.load_lake_into_postgres``: ``"<source>"."<table>"``, where the generated
dbt sources resolve on dbt-postgres). Then ``dbt build --target postgres`` runs the whole
project. The KPI layer (the catalogue, targets, calendar, fct_kpi_value, kpi_scorecard and
their tests) must build; every other node that fails there is reported (printed) as a
portability gap of its model. Finally every row of ``fct_kpi_value`` must be the same on both
adapters. The meta marts read lake files directly and exist only on DuckDB.
"""

from __future__ import annotations

import json
import math
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

pytestmark = pytest.mark.integration

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
# The KPI framework, built alone on PostgreSQL over the kpi_input rows of the DuckDB build.
KPI_LAYER_SELECTION = (
    "kpi_catalogue_seed",
    "kpi_targets_seed",
    "kpi_catalogue",
    "kpi_targets",
    "dim_date",
    "fct_kpi_value",
    "kpi_scorecard",
)
COMPARED = (
    "kpi_value_id",
    "period_type",
    "structure",
    "numerator",
    "denominator",
    "value",
    "period_aggregation",
    "months_covered",
    "target_value",
    "target_year",
    "status",
    "score",
)


@pytest.fixture(scope="module")
def built_duckdb(province_warehouse: Settings) -> Settings:
    return province_warehouse


@pytest.fixture(scope="module")
def scratch_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped at the end."""
    name = f"iochub_dbt_portability_{os.getpid()}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
        pg.execute(f'drop database if exists "{name}" with (force)')
        pg.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
            pg.execute(f'drop database if exists "{name}" with (force)')


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
    """The lake loaded into the scratch database, then two builds on dbt-postgres:

    1. the whole project: what does not build there is reported (printed);
    2. the KPI layer alone, over the kpi_input models' rows copied from the DuckDB build, so
       the framework's own SQL is tested on PostgreSQL even while a sector model upstream is
       not portable yet."""
    from iochub.lake_meta import copy_arrow_to_postgres, load_lake_into_postgres

    conninfo = f"{PG_SERVER}/{scratch_database}"
    assert load_lake_into_postgres(built_duckdb, conninfo), "no lake table loaded"
    whole = _dbt_postgres(built_duckdb, scratch_database, built_duckdb.home / "pg_whole")
    failed = {n: r for n, r in whole.items() if r["status"] not in ("success", "pass")}
    print(
        f"\nwhole project on dbt-postgres: {len(whole) - len(failed)} of {len(whole)} nodes "
        f"built or passed; errors (skipped nodes left out):\n  "
        + "\n  ".join(
            f"{node}: {' '.join(r['message'].split())[:160]}"
            for node, r in sorted(failed.items())
            if r["status"] in ("error", "fail")
        )
    )
    manifest = json.loads((built_duckdb.home / "dbt_target" / "manifest.json").read_text())
    inputs = sorted(
        (node["schema"], node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "kpi_input" in node["tags"]
    )
    with (
        duckdb.connect(str(built_duckdb.build_db), read_only=True) as duck,
        psycopg.connect(conninfo, autocommit=True) as pg,
    ):
        for schema, name in inputs:
            rows = duck.execute(f'select * from "{schema}"."{name}"').fetch_record_batch()
            copy_arrow_to_postgres(pg, schema, name, rows.read_all())
    kpi = _dbt_postgres(
        built_duckdb,
        scratch_database,
        built_duckdb.home / "pg_kpi",
        "--select",
        " ".join(KPI_LAYER_SELECTION),
        "--indirect-selection",
        "cautious",
    )
    return {"whole": whole, "kpi": kpi, "inputs": inputs}


def test_kpi_layer_builds_on_postgres(built_postgres: dict[str, Any]) -> None:
    kpi: dict[str, dict[str, str]] = built_postgres["kpi"]
    for model in ("fct_kpi_value", "kpi_scorecard"):
        assert f"model.iochub.{model}" in kpi, f"{model} was not run on postgres"
    tests = [node for node in kpi if node.startswith("test.")]
    assert tests, "no dbt test of the KPI layer ran on postgres"
    broken = {node: r for node, r in kpi.items() if r["status"] not in ("success", "pass")}
    assert not broken, "the KPI layer does not build on dbt-postgres:\n" + "\n".join(
        f"{node} [{r['status']}]: {r['message']}" for node, r in sorted(broken.items())
    )


def _rows(rows: list[tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    return {str(row[0]): tuple(row[1:]) for row in rows}


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return str(a) == str(b)


def test_kpi_values_equal_on_both_adapters(
    built_duckdb: Settings,
    scratch_database: str,
    built_postgres: dict[str, Any],
) -> None:
    if built_postgres["kpi"].get("model.iochub.fct_kpi_value", {}).get("status") != "success":
        pytest.fail("fct_kpi_value did not build on postgres (see the test above)")
    columns = ", ".join(COMPARED)
    with duckdb.connect(str(built_duckdb.build_db), read_only=True) as con:
        on_duckdb = _rows(con.execute(f"select {columns} from marts.fct_kpi_value").fetchall())
    with psycopg.connect(f"{PG_SERVER}/{scratch_database}") as pg:
        on_postgres = _rows(pg.execute(f"select {columns} from marts.fct_kpi_value").fetchall())
    if not on_duckdb:
        pytest.skip("fct_kpi_value is empty: no sector KPI model yet, nothing to compare")
    assert on_duckdb.keys() == on_postgres.keys(), (
        f"rows only on duckdb: {sorted(on_duckdb.keys() - on_postgres.keys())[:50]}; "
        f"only on postgres: {sorted(on_postgres.keys() - on_duckdb.keys())[:50]}"
    )
    differences = [
        f"{key} {name}: duckdb {a!r}, postgres {b!r}"
        for key, row in sorted(on_duckdb.items(), key=lambda item: str(item[0]))
        for name, a, b in zip(COMPARED[1:], row, on_postgres[key], strict=True)
        if not _same(a, b)
    ]
    assert not differences, f"{len(differences)} value(s) differ:\n  " + "\n  ".join(
        differences[:200]
    )


def test_lake_loader_round_trips(built_duckdb: Settings, scratch_database: str) -> None:
    """Every landed table has the same row count in PostgreSQL as in the lake."""
    from iochub.lake_meta import load_lake_into_postgres

    loaded = load_lake_into_postgres(built_duckdb, f"{PG_SERVER}/{scratch_database}")
    with duckdb.connect() as con, psycopg.connect(f"{PG_SERVER}/{scratch_database}") as pg:
        for name, rows in loaded.items():
            source, table = name.split(".")
            pattern = Path(built_duckdb.raw_dir, source, table, "*", "*.parquet")
            in_lake = con.execute(
                "select count(*) from read_parquet(?, union_by_name = true)", [str(pattern)]
            ).fetchall()[0][0]
            in_pg = pg.execute(f'select count(*) from "{source}"."{table}"').fetchall()[0][0]
            assert in_lake == in_pg == rows, f"{name}: lake {in_lake}, postgres {in_pg}"
