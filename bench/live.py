"""The province live: a backfill, then one new day from source change to published warehouse.

``python -m bench live [--scale 0.1] [--months 3] [--memory 2GB --memory 16GB]``

1. The demo province is generated for the first months of 2025 and served (setup, not timed).
2. **Backfill**: every source extracted (``ioc extract --all``), then the build's phases one by
   one as ``ioc build`` runs them: ``dbt build``, the GIS layers, the publish gate, publish.
3. **One new day**: ``ioc sim advance --hours 24`` (not timed), then the same phases again:
   the time from the changed sources to the published warehouse, phase by phase. The build
   redoes only what the new runs change (iochub.build_plan: the changed sources' models and
   what is downstream, the XML 130 chain merging only the new runs) and the gate validates the
   marts that differ from the published ones.
4. **Memory budgets**: ``dbt build --full-refresh`` of the same lake again under each
   ``--memory`` given (``IOC_DUCKDB_MEMORY``), side by side.

Every phase reports its wall time and the peak resident memory of the process doing it (the
extract's and dbt's process trees, sampled every 0.2 s). The results are printed as a table
and, with ``--json FILE``, written as JSON with the commit. Not measured here yet: Airflow's
scheduling between the phases and Superset answering with the new day (issue 19).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from bench.dbt_build import _landed_rows, _with_environment, drop_sim_databases

BENCH_ENV = {"IOC_SIM_DB_PREFIX": "simlive_", "IOC_SIM_PORT_BASE": "34700"}
LOG = Path(tempfile.gettempdir()) / "iochub-bench-live.log"  # dbt's and the gate's output


class Peak:
    """The largest resident memory of this process and its children while it runs."""

    def __init__(self) -> None:
        self.bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for process in [me, *me.children(recursive=True)]:
                try:
                    self.bytes = max(self.bytes, process.memory_info().rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self._stop.wait(0.2)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class Run:
    """The phases measured so far, in order."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    @contextmanager
    def phase(self, stage: str, name: str) -> Iterator[None]:
        print(f"› {stage}: {name}", flush=True)
        start = time.perf_counter()
        with Peak() as peak:
            yield
        row = {
            "stage": stage,
            "phase": name,
            "seconds": round(time.perf_counter() - start, 1),
            "peak_mb": round(peak.bytes / 2**20),
        }
        self.rows.append(row)
        # As it ends, not only in the final table: a long run that fails later keeps its figures.
        print(f"  {row['seconds']} s, peak {row['peak_mb']} MB", flush=True)


class IocFailed(RuntimeError):
    """An ``ioc`` command of the bench failed; the message ends with its last lines."""


def _ioc(env: dict[str, str], *args: str, check: bool = True) -> int:
    """Run ``ioc <args>`` with its output appended to LOG; with ``check``, a failure raises
    IocFailed with the command's last lines (a scale-1 run once lost an hour to a failed ``sim
    advance`` whose output had been thrown away)."""
    with LOG.open("a", encoding="utf-8") as log:
        start = log.tell()
        done = subprocess.run(
            [sys.executable, "-m", "iochub.cli", *args],
            env=env,
            check=False,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if check and done.returncode != 0:
        with LOG.open(encoding="utf-8", errors="replace") as log:
            log.seek(start)
            tail = "".join(log.readlines()[-20:])
        raise IocFailed(f"`ioc {' '.join(args)}` failed (exit {done.returncode}):\n{tail}")
    return done.returncode


def _extract_all(env: dict[str, str]) -> None:
    """``ioc extract --all``: a source that fails (a system the months generated lack, such as
    a term's school exports) does not stop the others, as in ``ioc run``."""
    if _ioc(env, "extract", "--all", check=False):
        print("  (some sources failed: see IOC_HOME/lake/_failures)", flush=True)


@contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """This process's stdout and stderr (and so dbt's, a child) into ``log`` for a while."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _build_phases(run: Run, stage: str) -> None:
    """The steps of ``ioc build`` (iochub.warehouse.build_and_publish), each measured."""
    from connectors.landing import new_run_id
    from geo.layers import build_layers
    from iochub.settings import get_settings
    from iochub.warehouse import build_warehouse, gate_and_publish

    settings = get_settings()
    with run.phase(stage, "dbt build"), _output_to(LOG):
        plan = build_warehouse(settings)  # what changed since the last build (iochub.build_plan)
    print(f"  dbt: {plan.describe()}", flush=True)
    with run.phase(stage, "GIS layers"), _output_to(LOG):
        build_layers(settings)
    with run.phase(stage, "gate + publish"), _output_to(LOG):
        gate_and_publish(settings, new_run_id(), only_changed=not plan.full_refresh)


def live(scale: float, months: int, budgets: list[str]) -> tuple[Run, int]:
    from iochub.settings import get_settings

    root = Path(tempfile.mkdtemp(prefix="iochub-bench-live-"))
    env = {**os.environ, **BENCH_ENV, "IOC_HOME": str(root / "home")}
    restore = _with_environment(env, ["IOC_HOME", *BENCH_ENV])
    run = Run()
    LOG.write_text("", encoding="utf-8")
    print(f"(dbt's, the layers' and the gate's output: {LOG})", flush=True)
    try:
        settings = get_settings()
        env.update(settings.tool_environment())
        end = f"2025-{months:02d}-28"
        print(f"› generate scale {scale}, 2025-01-01..{end} (not timed)", flush=True)
        _ioc(env, "sim", "generate", "--scale", str(scale), "--start", "2025-01-01", "--end", end)
        _ioc(env, "sim", "serve")
        try:
            with run.phase("backfill", "extract --all"):
                _extract_all(env)
            _build_phases(run, "backfill")
            print("› advance the province one day (not timed)", flush=True)
            try:
                _ioc(env, "sim", "advance", "--hours", "24")
            except IocFailed as failed:
                # The backfill's figures still make the table (at scale 1 the advance's
                # staging copy needs a second 37 GB of disk).
                print(f"  no new day: {failed}", flush=True)
            else:
                with run.phase("new day", "extract --all"):
                    _extract_all(env)
                _build_phases(run, "new day")
        finally:
            _ioc(env, "sim", "stop")
        for budget in budgets:
            undo = _with_environment({"IOC_DUCKDB_MEMORY": budget}, ["IOC_DUCKDB_MEMORY"])
            try:
                from iochub.warehouse import run_dbt

                phase = run.phase(f"IOC_DUCKDB_MEMORY={budget}", "dbt build --full-refresh")
                with phase, _output_to(LOG):
                    run_dbt(get_settings(), "build", "--full-refresh")
            finally:
                undo()
        return run, _landed_rows(settings)
    finally:
        restore()
        drop_sim_databases(BENCH_ENV["IOC_SIM_DB_PREFIX"])
        shutil.rmtree(root, ignore_errors=True)


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def _print(run: Run, title: str) -> None:
    table = Table(title=title)
    for column in ("stage", "phase", "wall s", "peak MB"):
        table.add_column(column)
    totals: dict[str, float] = {}
    for row in run.rows:
        table.add_row(row["stage"], row["phase"], f"{row['seconds']:.1f}", f"{row['peak_mb']:,}")
        totals[row["stage"]] = totals.get(row["stage"], 0) + row["seconds"]
    for stage in ("backfill", "new day"):
        table.add_row(stage, "[b]source change → published[/b]", f"{totals.get(stage, 0):.1f}", "")
    Console(width=140).print(table)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench live", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--months", type=int, default=3, choices=range(1, 13))
    parser.add_argument(
        "--memory", action="append", default=[], help="also build under this IOC_DUCKDB_MEMORY"
    )
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    try:
        run, landed = live(args.scale, args.months, args.memory)
    except IocFailed as failed:
        raise SystemExit(str(failed)) from None
    title = f"scale {args.scale}, {args.months} month(s), {landed:,} rows landed, {_commit()}"
    _print(run, title)
    if args.json:
        document = {
            "benchmark": "live",
            "commit": _commit(),
            "scale": args.scale,
            "months": args.months,
            "rows_landed": landed,
            "cpu_count": os.cpu_count(),
            "phases": run.rows,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
