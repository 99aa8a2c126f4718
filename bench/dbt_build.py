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
a large scale (the issue's measures are one province-year at 0.1 and at 1). ``--home DIR``
builds a home that is already landed instead (e.g. the scale-1 province kept by ``python -m
bench scale1 --keep`` and landed with ``ioc extract --all``), and leaves it in place;
``--adapter`` runs one of the two builds only.
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
from typing import TYPE_CHECKING

import psutil
import psycopg
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from iochub.settings import Settings

PG_SERVER = os.environ.get("IOC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
BENCH_ENV = {"IOC_SIM_DB_PREFIX": "simdbt_", "IOC_SIM_PORT_BASE": "34500"}
ADAPTERS = ("duckdb", "postgres")


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


def _landed_rows(settings: Settings) -> int:
    return sum(
        sum(json.loads(path.read_text())["rows_landed"].values())
        for path in settings.manifest_dir.glob("*/*.json")
    )


def build_both(
    settings: Settings, env: dict[str, str], scratch: Path, adapters: list[str]
) -> list[dict[str, object]]:
    """``dbt build`` of a landed home on each adapter asked for (see the module docstring)."""
    from iochub.lake_meta import load_lake_into_postgres
    from iochub.warehouse import dbt_args, prepare_build

    prepare_build(settings)
    dbt = [str(settings.dbt_executable), *dbt_args(settings, "build")]
    rows: list[dict[str, object]] = []
    if "duckdb" in adapters:
        print("› dbt build on duckdb", flush=True)
        rows.append({"adapter": "duckdb", **measured(dbt, env)})
    if "postgres" not in adapters:
        return rows
    database = f"iochub_bench_dbt_{os.getpid()}"
    try:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
            pg.execute(f'drop database if exists "{database}" with (force)')
            pg.execute(f'create database "{database}"')
        start = time.perf_counter()
        print("› copy the lake into PostgreSQL", flush=True)
        load_lake_into_postgres(settings, f"{PG_SERVER}/{database}")
        rows.append({"adapter": "postgres: load lake", "seconds": time.perf_counter() - start})
        print("› dbt build on postgres", flush=True)
        target = ["--target", "postgres", "--target-path", str(scratch / "pg_target")]
        pg_env = {**env, "IOC_DBT_PG_DBNAME": database}
        rows.append({"adapter": "postgres", **measured([*dbt, *target], pg_env, server=True)})
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
            pg.execute(f'drop database if exists "{database}" with (force)')
    return rows


def _with_environment(env: dict[str, str], keys: list[str]) -> Callable[[], None]:
    """Point this process's settings at ``env`` for ``keys``; returns the undo."""
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.update({key: env[key] for key in keys if key in env})

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    return restore


def run_home(home: Path, adapters: list[str]) -> list[dict[str, object]]:
    """Build an already-landed home, leaving it as it is apart from its build outputs."""
    from iochub.settings import get_settings

    if not (home / "lake" / "_manifests").is_dir():
        raise SystemExit(f"{home} has no landed lake: run `ioc extract --all` with IOC_HOME={home}")
    env = {**os.environ, "IOC_HOME": str(home)}
    restore = _with_environment(env, ["IOC_HOME"])
    try:
        settings = get_settings()
        env.update(settings.tool_environment())
        scratch = Path(tempfile.mkdtemp(prefix="iochub-bench-dbt-"))
        try:
            rows = build_both(settings, env, scratch, adapters)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        landed = _landed_rows(settings)
    finally:
        restore()
    for row in rows:
        row.update({"scale": f"home {home.name}", "months": "-", "rows_landed": landed})
    return rows


def run_scale(scale: float, months: int, adapters: list[str]) -> list[dict[str, object]]:
    from iochub.settings import get_settings

    root = Path(tempfile.mkdtemp(prefix="iochub-bench-dbt-"))
    env = {
        **os.environ,
        **BENCH_ENV,
        "IOC_HOME": str(root / "home"),
        "IOC_SIM_DIR": str(root / "sim"),
    }
    restore = _with_environment(env, ["IOC_HOME", "IOC_SIM_DIR", *BENCH_ENV])
    settings = get_settings()
    env.update(settings.tool_environment())
    end = f"2025-{months:02d}-28" if months < 12 else "2025-12-31"
    try:
        _timed(
            f"scale {scale}: generate 2025-01-01..{end}",
            lambda: _ioc(
                env, "sim", "generate", "--scale", str(scale), "--start", "2025-01-01",
                "--end", end,
            ),
        )  # fmt: skip
        _ioc(env, "sim", "serve")
        try:
            _timed("extract --all", lambda: _ioc(env, "extract", "--all"))
        finally:
            _ioc(env, "sim", "stop")
        rows = build_both(settings, env, root, adapters)
        landed = _landed_rows(settings)
        for row in rows:
            row.update({"scale": scale, "months": months, "rows_landed": landed})
        return rows
    finally:
        restore()
        drop_sim_databases(BENCH_ENV["IOC_SIM_DB_PREFIX"])
        shutil.rmtree(root, ignore_errors=True)


def drop_sim_databases(prefix: str) -> None:
    """Drop the PostgreSQL databases a benchmark's demo province was loaded into."""
    pattern = prefix.replace("_", "\\_") + "%"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
        names = pg.execute("select datname from pg_database where datname like %s", [pattern])
        for (name,) in names.fetchall():
            pg.execute(f'drop database if exists "{name}" with (force)')


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench dbt", description=__doc__)
    parser.add_argument("--scale", type=float, action="append")
    parser.add_argument("--months", type=int, default=12, choices=range(1, 13))
    parser.add_argument("--home", type=Path, help="build this landed IOC_HOME instead")
    parser.add_argument(
        "--adapter", choices=ADAPTERS, action="append", help="only this build (repeatable)"
    )
    args = parser.parse_args(argv)
    adapters = args.adapter or list(ADAPTERS)
    if args.home is not None:
        results = run_home(args.home.resolve(), adapters)
    else:
        results = [
            row
            for scale in args.scale or [0.1, 1.0]
            for row in run_scale(scale, args.months, adapters)
        ]
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
    duck_seconds = {
        str(row["scale"]): float(row["seconds"])  # type: ignore[arg-type]
        for row in results
        if row["adapter"] == "duckdb"
    }
    for row in results:
        seconds = float(row["seconds"])  # type: ignore[arg-type]
        duck = duck_seconds.get(str(row["scale"]))
        table.add_row(
            str(row["scale"]),
            str(row["months"]),
            f"{row['rows_landed']:,}",
            str(row["adapter"]),
            str(row.get("exit", "")),
            f"{seconds:.1f}",
            f"{seconds / duck:.2f}×" if duck else "-",
            f"{int(row.get('peak', 0)) / 2**20:,.0f}",  # type: ignore[call-overload]
            f"{int(row.get('server_growth', 0)) / 2**20:,.0f}",  # type: ignore[call-overload]
        )
    Console(width=160).print(table)
