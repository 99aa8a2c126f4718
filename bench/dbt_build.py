"""``dbt build`` of the whole project on DuckDB and on PostgreSQL, side by side, per scale.

For each scale: the demo province is generated (``ioc sim generate``, the months of 2025 asked
for), served, and landed by ``ioc extract --all`` into a throwaway IOC_HOME (setup, timed but not
the measure). Then the same project is built twice:

- **duckdb**: ``dbt build`` into ``build.duckdb`` (the laptop's and the province's engine);
- **postgres**: the lake copied into a scratch database
  (``iochub.lake_meta.load_lake_into_postgres``, timed on its own row: PostgreSQL cannot read
  Parquet), then ``dbt build --target postgres``.

Measured per build: wall time and the peak resident memory of the dbt process tree (sampled
every 0.2 s); for PostgreSQL also the peak of the server's processes over the build, less their
resident memory before it (a server-side estimate: shared buffers count in several backends).

``python -m bench dbt [--scale 0.1 --scale 1] [--months M]``; fewer months give a quick run at
a large scale (the issue's measures are one province-year at 0.1 and at 1).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg
from rich.console import Console
from rich.table import Table

PG_SERVER = os.environ.get("IOC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
BENCH_ENV = {"IOC_SIM_DB_PREFIX": "simdbt_", "IOC_SIM_PORT_BASE": "34500"}


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def _server_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres",)]


def measured(
    command: list[str], env: dict[str, str], server: bool = False
) -> dict[str, float | int]:
    """Run ``command``; its wall time, exit code and peak memory (process tree; with
    ``server`` also the PostgreSQL server's growth over its baseline)."""
    baseline = _rss(_server_processes()) if server else 0
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    watched = psutil.Process(child.pid)
    peak = server_peak = 0
    while child.poll() is None:
        peak = max(peak, _rss([watched, *watched.children(recursive=True)]))
        if server:
            server_peak = max(server_peak, _rss(_server_processes()))
        time.sleep(0.2)
    return {
        "seconds": time.perf_counter() - start,
        "exit": child.returncode,
        "peak": peak,
        "server_growth": max(server_peak - baseline, 0),
    }


def _timed(step: str, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    print(f"› {step}", flush=True)
    fn()
    return time.perf_counter() - start


def _ioc(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "iochub.cli", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_scale(scale: float, months: int) -> list[dict[str, object]]:
    from iochub.settings import get_settings
    from iochub.warehouse import dbt_args, prepare_build

    root = Path(tempfile.mkdtemp(prefix="iochub-bench-dbt-"))
    env = {
        **os.environ,
        **BENCH_ENV,
        "IOC_HOME": str(root / "home"),
        "IOC_SIM_DIR": str(root / "sim"),
    }
    database = f"iochub_bench_dbt_{os.getpid()}"
    saved = {key: os.environ.get(key) for key in ("IOC_HOME", "IOC_SIM_DIR", *BENCH_ENV)}
    os.environ.update({key: env[key] for key in saved})
    settings = get_settings()
    env.update(settings.tool_environment())
    end = f"2025-{months:02d}-28" if months < 12 else "2025-12-31"
    rows: list[dict[str, object]] = []
    try:
        setup = _timed(
            f"scale {scale}: generate 2025-01-01..{end}",
            lambda: _ioc(
                env, "sim", "generate", "--scale", str(scale), "--start", "2025-01-01",
                "--end", end,
            ),
        )  # fmt: skip
        _ioc(env, "sim", "serve")
        try:
            setup += _timed("extract --all", lambda: _ioc(env, "extract", "--all"))
        finally:
            _ioc(env, "sim", "stop")
        prepare_build(settings)
        landed = sum(
            sum(json.loads(path.read_text())["rows_landed"].values())
            for path in settings.manifest_dir.glob("*/*.json")
        )
        dbt = [str(settings.dbt_executable), *dbt_args(settings, "build")]
        print("› dbt build on duckdb", flush=True)
        duck = measured(dbt, env)
        rows.append({"adapter": "duckdb", **duck})
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
            pg.execute(f'drop database if exists "{database}" with (force)')
            pg.execute(f'create database "{database}"')
        from iochub.lake_meta import load_lake_into_postgres

        start = time.perf_counter()
        print("› copy the lake into PostgreSQL", flush=True)
        load_lake_into_postgres(settings, f"{PG_SERVER}/{database}")
        rows.append({"adapter": "postgres: load lake", "seconds": time.perf_counter() - start})
        print("› dbt build on postgres", flush=True)
        target = ["--target", "postgres", "--target-path", str(root / "pg_target")]
        pg_env = {**env, "IOC_DBT_PG_DBNAME": database}
        rows.append({"adapter": "postgres", **measured([*dbt, *target], pg_env, server=True)})
        for row in rows:
            row.update({"scale": scale, "months": months, "rows_landed": landed, "setup": setup})
        return rows
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
            pg.execute(f'drop database if exists "{database}" with (force)')
            names = pg.execute(
                "select datname from pg_database where datname like 'simdbt\\_%'"
            ).fetchall()
            for (name,) in names:
                pg.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench dbt", description=__doc__)
    parser.add_argument("--scale", type=float, action="append")
    parser.add_argument("--months", type=int, default=12, choices=range(1, 13))
    args = parser.parse_args(argv)
    results = [row for scale in args.scale or [0.1, 1.0] for row in run_scale(scale, args.months)]
    table = Table(title="dbt build of the whole project, DuckDB and PostgreSQL side by side")
    for column in (
        "scale",
        "months",
        "rows landed",
        "adapter",
        "exit",
        "wall s",
        "ratio to duckdb",
        "peak dbt MB",
        "server growth MB",
    ):
        table.add_column(column)
    duck_seconds: dict[float, float] = {}
    for row in results:
        seconds = float(row["seconds"])  # type: ignore[arg-type]
        if row["adapter"] == "duckdb":
            duck_seconds[float(row["scale"])] = seconds  # type: ignore[arg-type]
        table.add_row(
            str(row["scale"]),
            str(row["months"]),
            f"{row['rows_landed']:,}",
            str(row["adapter"]),
            str(row.get("exit", "")),
            f"{seconds:.1f}",
            f"{seconds / duck_seconds[float(row['scale'])]:.2f}×",  # type: ignore[arg-type]
            f"{int(row.get('peak', 0)) / 2**20:,.0f}",  # type: ignore[call-overload]
            f"{int(row.get('server_growth', 0)) / 2**20:,.0f}",  # type: ignore[call-overload]
        )
    Console(width=160).print(table)
