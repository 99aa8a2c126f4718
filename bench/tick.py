"""One demo tick through the real Airflow: from the province's new day to the wall's data.

``python -m bench tick [--home PATH] [--json FILE]``

Against a home that ``make demo`` (or ``ioc run`` and ``ioc sim serve``) prepared: a generated
province served, a published warehouse. Airflow's scheduler, DAG processor and API server are
reused when ``make demo`` left them running, otherwise started for the run and stopped after it.
Then one tick of the demo clock (``iochub.ticker.tick``: the province moves a day on, then every
extract DAG due that day is triggered through the REST API), and the clock starts when the tick
has triggered its runs (the sources have changed). Measured:

- when every triggered extract run has ended, and per task the wait from queued to started and
  the run itself (from the task instances Airflow records);
- every ``build_warehouse`` run that published after the tick, and **the tick on the wall**:
  the end of the first run whose dbt build started after the last extract ended, i.e. the first
  publish holding the whole new day (a build that started earlier publishes part of it).

Superset is not asked: its answer is the published file (``bench dashboards`` times it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TIMEOUT_S = 1800


def _at(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def _runs(api: Any, dag_id: str, after: float) -> list[dict[str, Any]]:
    """The runs of ``dag_id`` queued after ``after`` (a timestamp), oldest first."""
    answer = api.request(
        "GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 20}
    ).json()["dag_runs"]
    runs = [r for r in answer if (_at(r.get("queued_at") or r["run_after"]) or 0) >= after]
    return sorted(runs, key=lambda r: _at(r.get("queued_at") or r["run_after"]) or 0)


def _wait_quiet(api: Any, say: Any) -> None:
    """Wait (not timed) until no ``build_warehouse`` run is queued or running: an Airflow just
    started runs the build of its last missed 6-hourly slot, which would take the tick's
    landings in a run queued before the tick and keep the tick's own build waiting for it."""
    deadline = time.time() + TIMEOUT_S
    while time.time() < deadline:
        answer = api.request(
            "GET",
            "/api/v2/dags/build_warehouse/dagRuns",
            params={"state": ["queued", "running"], "limit": 5},
        ).json()["dag_runs"]
        if not answer:
            return
        say(
            f"  waiting for {len(answer)} build_warehouse run(s) to end before the tick (not timed)"
        )
        time.sleep(10)
    raise TimeoutError(f"build_warehouse still busy after {TIMEOUT_S} s: nothing measured")


def _wait(
    api: Any, triggered: list[str], ticked: float, started: float, say: Any
) -> dict[str, Any]:
    """Poll until the first build run that started after every extract ended has ended (runs
    queued since ``ticked``; times from ``started``)."""
    extracts_done: float | None = None
    deadline = time.time() + TIMEOUT_S
    while time.time() < deadline:
        if extracts_done is None:
            ends = []
            for dag_id in triggered:
                runs = [r for r in _runs(api, dag_id, ticked) if r["run_type"] == "manual"]
                if not runs or runs[0]["state"] not in ("success", "failed"):
                    break
                ends.append(_at(runs[0]["end_date"]) or time.time())
            else:
                extracts_done = max(ends, default=started)
                say(f"  every extract run ended at +{extracts_done - started:.1f} s")
        if extracts_done is not None:
            for run in _runs(api, "build_warehouse", ticked):
                if run["state"] not in ("success", "failed"):
                    continue
                begun = _dbt_started(api, run)
                if begun and begun >= extracts_done:
                    return {"extracts_done": extracts_done, "wall_run": run}
        time.sleep(2)
    raise TimeoutError(f"no build_warehouse run ended after the extracts within {TIMEOUT_S} s")


def _dbt_started(api: Any, run: dict[str, Any]) -> float | None:
    """When the run's dbt build started: what it publishes is what had landed by then (its
    first task waits for the extract runs still going)."""
    path = f"/api/v2/dags/build_warehouse/dagRuns/{run['dag_run_id']}/taskInstances"
    for task in api.request("GET", path).json()["task_instances"]:
        if task["task_id"] == "dbt_build":
            return _at(task.get("start_date"))
    return None


def _tasks(api: Any, dag_id: str, run: dict[str, Any], started: float) -> list[dict[str, Any]]:
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances"
    rows = []
    for task in api.request("GET", path).json()["task_instances"]:
        queued, begun, ended = (
            _at(task.get("queued_when")),
            _at(task.get("start_date")),
            _at(task.get("end_date")),
        )
        rows.append(
            {
                "dag_id": dag_id,
                "task_id": task["task_id"],
                "state": task["state"],
                "queued_s": round(queued - started, 1) if queued else None,
                "wait_s": round(begun - queued, 1) if begun and queued else None,
                "run_s": round(ended - begun, 1) if ended and begun else None,
                "ended_s": round(ended - started, 1) if ended else None,
            }
        )
    return rows


def tick_once(home: Path | None, say: Any) -> dict[str, Any] | None:
    if home is not None:
        os.environ["IOC_HOME"] = str(home)
    from connectors.source_lock import holder
    from iochub import airflow_services, processes
    from iochub.demo import listener_service, start_listeners
    from iochub.settings import get_settings
    from iochub.ticker import AirflowApi, tick

    settings = get_settings()
    if not settings.serving_db.exists() or not (settings.sim_dir / "manifest.json").exists():
        say(
            f"tick: no demo in {settings.home}, nothing measured: run `make demo` (or `ioc sim "
            "generate`, `ioc sim serve` and `ioc run`) first"
        )
        return None
    started_here = not processes.running_pid(settings, "airflow-scheduler")
    listeners: list[str] = []
    if started_here:
        say(
            "› starting Airflow and the MQTT listeners for the run, as `make demo` does (not timed)"
        )
        airflow_services.prepare(settings)
        airflow_services.start(settings)
        listeners = start_listeners(settings)
        # As in the demo, where they run long before a tick: holding their sources.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            (holder(settings, name) or {}).get("listener") for name in listeners
        ):
            time.sleep(0.5)
    try:
        api = AirflowApi.of(settings)
        _wait_quiet(api, say)
        say("› one tick: the province moves a day on, the due extract DAGs are triggered")
        ticked = time.time()
        result, triggered = tick(settings, api)
        started = time.time()
        say(f"  advance and triggers took {started - ticked:.1f} s; {len(triggered)} run(s)")
        waited = _wait(api, triggered, ticked, started, say)
        extracts = [
            row
            for dag_id in triggered
            for run in [r for r in _runs(api, dag_id, ticked) if r["run_type"] == "manual"][:1]
            for row in _tasks(api, dag_id, run, started)
        ]
        builds = [
            {
                "state": run["state"],
                "started_s": round((_at(run.get("start_date")) or started) - started, 1),
                "ended_s": round((_at(run.get("end_date")) or started) - started, 1),
                "tasks": _tasks(api, "build_warehouse", run, started),
            }
            for run in _runs(api, "build_warehouse", ticked)
            if run["state"] in ("success", "failed")
        ]
    finally:
        for name in listeners:
            processes.stop(settings, listener_service(name))
        if started_here:
            airflow_services.stop(settings)
    wall = _at(waited["wall_run"].get("end_date")) or started
    return {
        "benchmark": "tick",
        "commit": _commit(),
        "cpu_count": os.cpu_count(),
        "province_day": str(result.new_end),
        "triggered": len(triggered),
        "extracts_done_s": round(waited["extracts_done"] - started, 1),
        "tick_on_wall_s": round(wall - started, 1),
        "wall_run_state": waited["wall_run"]["state"],
        "extract_tasks": extracts,
        "builds": builds,
    }


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def _print(result: dict[str, Any], console: Console) -> None:
    tasks = [t for t in result["extract_tasks"] if t["run_s"] is not None]
    table = Table(title=f"one demo tick ({result['province_day']}, {result['commit']})")
    for column in ("measure", "value"):
        table.add_column(column)
    table.add_row("extract runs triggered", str(result["triggered"]))
    if tasks:
        waits = [t["wait_s"] for t in tasks if t["wait_s"] is not None]
        runs = [t["run_s"] for t in tasks]
        table.add_row("extract task: queued → started, median / max s", _spread(waits))
        table.add_row("extract task: run, median / max s", _spread(runs))
    table.add_row("every extract ended, s after the tick", f"{result['extracts_done_s']:.1f}")
    for build in result["builds"]:
        steps = ", ".join(
            f"{t['task_id']} {t['run_s']}" for t in build["tasks"] if t["run_s"] is not None
        )
        table.add_row(f"build_warehouse {build['started_s']:.0f} → {build['ended_s']:.0f} s", steps)
    table.add_row(
        "[bold]tick on the wall (whole day published), s[/bold]",
        f"[bold]{result['tick_on_wall_s']:.1f}[/bold] ({result['wall_run_state']})",
    )
    console.print(table)


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} / {max(values):.1f}"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench tick", description=__doc__)
    parser.add_argument("--home", type=Path, help="IOC_HOME of the demo (default: the current)")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    console = Console()
    result = tick_once(args.home, console.print)
    if result is None:
        return
    _print(result, console)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
