"""Parsing the DAG folder, the way Airflow's DAG processor does, in a fresh process.

Each DAG file may only read the registry at import (DESIGN.md); this shows what the whole
``dags/`` folder costs per parse: Airflow's own per-file durations (``DagBag.dagbag_stats``) and
the fresh process's total, best of three. The stated bound: the whole folder parses in under
5 seconds, a sixth of Airflow's default ``dagbag_import_timeout`` (30 s) per file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

BOUND_SECONDS = 5.0

_CHILD = """
import json, time
start = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
from iochub.settings import get_settings
bag = DagBag(dag_folder=str(get_settings().dags_dir))
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "errors": len(bag.import_errors),
    "files": [
        {"file": s.file, "seconds": s.duration.total_seconds(), "dags": s.dag_num}
        for s in bag.dagbag_stats
    ],
}))
"""


def _parse_once() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
    )
    parsed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def main(argv: list[str]) -> None:
    runs = [_parse_once() for _ in range(3)]
    best = min(runs, key=lambda run: float(run["seconds"]))
    table = Table(title="Parsing dags/ in a fresh process (best of 3)")
    for column in ("file", "DAGs", "parse s", "bound"):
        table.add_column(column)
    files: list[dict[str, Any]] = best["files"]
    for stat in files:
        table.add_row(str(stat["file"]), str(stat["dags"]), f"{stat['seconds']:.2f}", "")
    parsed = sum(float(stat["seconds"]) for stat in files)
    table.add_row(
        "whole folder (Airflow's parse)",
        str(sum(int(stat["dags"]) for stat in files)),
        f"{parsed:.2f}",
        f"< {BOUND_SECONDS:g} s {'met' if parsed < BOUND_SECONDS else 'NOT met'}",
    )
    table.add_row("fresh process incl. importing Airflow", "", f"{best['seconds']:.2f}", "")
    Console(width=120).print(table)
    if best["errors"]:
        raise SystemExit(f"{best['errors']} DAG import error(s): run the DAG integrity tests")
