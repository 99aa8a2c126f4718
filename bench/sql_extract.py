"""Extract throughput of the ``sql`` kind against the tools it could have been.

A 2,000,000-row PostgreSQL table of citizens' records (scratch database ``iochub_bench``, built
once with ``generate_series`` on the server) is read by:

(a) bare connectorx into one Arrow table (the ceiling: nothing written, nothing checked);
(b) our ``sql`` kind: streamed chunks, landing contract (casts, checks, admin codes), HMAC of
    the citizen id and name, birth date to its year, Parquet parts and manifest;
(c) dlt's ``sql_database`` source with its default (SQLAlchemy) backend into DuckDB;
(d) the same with the pyarrow backend.

Each case runs in a subprocess of its own and reports its wall time and peak RSS
(``ru_maxrss`` of that process), so one case's memory never counts against another.
Run: ``python -m bench sql`` (or ``python -m bench.sql_extract [--rows N] [case ...]``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

SERVER = os.environ.get("IOC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
DATABASE = "iochub_bench"
TABLE = "citizen_records"
ROWS = 2_000_000
CASES = ["connectorx", "iochub_sql", "dlt_default", "dlt_pyarrow"]
_SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "admin"


def _url() -> str:
    return f"{SERVER}/{DATABASE}"


def prepare(rows: int) -> None:
    """Create the table unless it already holds ``rows`` rows (built on the server)."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if exists.fetchone() is None:
            admin.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(_url(), autocommit=True) as pg:
        have = pg.execute(f"SELECT to_regclass('{TABLE}') IS NOT NULL").fetchone()
        if have and have[0]:
            count = pg.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
            if count and count[0] == rows:
                return
        with (_SEEDS / "admin_unit_2025.csv").open(encoding="utf-8") as handle:
            communes = [row["commune_code"] for row in csv.DictReader(handle)][:100]
        codes = "ARRAY[" + ",".join(f"'{c}'" for c in communes) + "]"
        pg.execute(f"DROP TABLE IF EXISTS {TABLE}")
        # Realistic widths: a 12-digit CCCD, a Vietnamese full name, dates, codes, money.
        pg.execute(
            f"""
            CREATE TABLE {TABLE} AS
            SELECT g AS record_id,
                   lpad((g * 7919 % 1000000000000)::text, 12, '0') AS citizen_id,
                   (ARRAY['Nguyễn','Trần','Lê','Phạm','Huỳnh','Võ'])[1 + g % 6] || ' ' ||
                   (ARRAY['Văn','Thị','Minh','Ngọc','Hữu'])[1 + g % 5] || ' ' ||
                   (ARRAY['An','Bình','Cường','Dũng','Hạnh','Lan','Tâm','Thảo'])[1 + g % 8]
                       AS full_name,
                   DATE '1940-01-01' + (g * 13 % 30000)::int AS birth_date,
                   (g % 2) + 1 AS sex,
                   ({codes})[1 + g % {len(communes)}] AS commune_code,
                   (g * 37 % 5000000)::bigint AS amount_vnd,
                   1 + g % 10 AS status,
                   TIMESTAMP '2025-01-01' + g * INTERVAL '15 seconds' AS updated_at,
                   'Hồ sơ số ' || g AS note
            FROM generate_series(1::bigint, {rows}) AS g
            """
        )
        pg.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (record_id)")
        pg.execute(f"ANALYZE {TABLE}")


def _connectorx() -> int:
    import connectorx as cx

    arrow = cx.read_sql(_url(), f"SELECT * FROM {TABLE}", return_type="arrow")
    return int(arrow.num_rows)


def _iochub_sql(workdir: Path) -> int:
    from connectors.extract import extract_source
    from connectors.registry import Source
    from iochub.settings import get_settings

    os.environ["IOC_HOME"] = str(workdir / "home")
    os.environ.setdefault("IOC_PII_KEY", "bench-key")
    os.environ["IOC_BENCH_SQL_URL"] = _url()
    source = Source.model_validate(
        {
            "name": "bench_sql",
            "sector": "public_services",
            "title": "bench",
            "owner": "bench",
            "kind": "sql",
            "connection": {"env": "IOC_BENCH_SQL_URL"},
            "schedule": "@daily",
            "freshness_hours": 24,
            "sql": {"chunk_rows": 100_000},
            "tables": [
                {
                    "name": TABLE,
                    "title": "bench",
                    "table": TABLE,
                    "primary_key": ["record_id"],
                    "incremental": {"cursor": "updated_at", "initial": "2000-01-01"},
                    "columns": {
                        "record_id": {"type": "integer", "required": True},
                        "birth_date": {"type": "date", "future": False},
                        "sex": {"type": "integer", "codes": ["1", "2"]},
                        "commune_code": {"required": True, "admin_code": True},
                        "amount_vnd": {"type": "integer", "min": 0},
                        "status": {"type": "integer", "min": 1, "max": 10},
                        "updated_at": {"type": "timestamp", "required": True},
                        "note": {},
                    },
                    "pii": {"citizen_id": "hmac", "full_name": "hmac", "birth_date": "year"},
                }
            ],
        }
    )
    manifest = extract_source(source, get_settings())
    assert manifest.rows_quarantined == {}, manifest.rows_quarantined
    return manifest.rows_landed[TABLE]


def _dlt(workdir: Path, backend: str) -> int:
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    import dlt
    from dlt.sources.sql_database import sql_table

    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{backend}",
        destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
        dataset_name="bench",
        pipelines_dir=str(workdir / "pipelines"),
    )
    table_resource = sql_table(
        credentials=_url().replace("postgresql://", "postgresql+psycopg://"),
        table=TABLE,
        backend=backend,  # type: ignore[arg-type]
    )
    pipeline.run(table_resource)
    trace = pipeline.last_trace
    assert trace is not None and trace.last_normalize_info is not None
    return int(trace.last_normalize_info.row_counts[TABLE])


def run_case(case: str) -> dict[str, float]:
    """Body of one case, in the subprocess."""
    with tempfile.TemporaryDirectory(prefix="iochub-bench-sql-") as tmp:
        workdir = Path(tmp)
        began = time.perf_counter()
        if case == "connectorx":
            rows = _connectorx()
        elif case == "iochub_sql":
            rows = _iochub_sql(workdir)
        elif case == "dlt_default":
            rows = _dlt(workdir, "sqlalchemy")
        elif case == "dlt_pyarrow":
            rows = _dlt(workdir, "pyarrow")
        else:
            raise SystemExit(f"unknown case {case}; known: {CASES}")
        seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"rows": rows, "seconds": seconds, "peak_rss_mb": peak_mb}


def measure(case: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.sql_extract", "--child", case],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=CASES)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_case(args.cases[0])))
        return
    from rich.console import Console
    from rich.table import Table

    began = time.perf_counter()
    prepare(args.rows)
    print(f"table ready ({args.rows:,} rows) in {time.perf_counter() - began:.1f} s")
    table = Table(title=f"sql extract: {args.rows:,} PostgreSQL rows, one subprocess per case")
    for column in ("case", "rows", "seconds", "rows/s", "peak RSS MB", "vs connectorx"):
        table.add_column(column)
    baseline = None
    for case in args.cases:
        result = measure(case)
        speed = result["rows"] / result["seconds"]
        baseline = baseline or speed
        table.add_row(
            case,
            f"{result['rows']:,.0f}",
            f"{result['seconds']:.1f}",
            f"{speed:,.0f}",
            f"{result['peak_rss_mb']:,.0f}",
            f"{speed / baseline:.2f}×",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
