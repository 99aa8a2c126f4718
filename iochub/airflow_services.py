"""Airflow for the demo: metadata database, one run of each DAG, and the background services.

Airflow runs from the pipeline environment with ``AIRFLOW_HOME`` under ``IOC_HOME`` and a
small footprint for 2 cores: LocalExecutor with low parallelism, one API server worker, a
scheduler and a DAG processor. The UI login is ``admin`` with the same generated password as
Superset (Airflow's simple auth manager, passwords file kept under ``IOC_HOME``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from iochub import processes
from iochub.settings import REPO_ROOT, Settings

SERVICES = {
    "airflow-scheduler": ["scheduler"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-api-server": ["api-server", "--workers", "1"],
}


class AirflowError(RuntimeError):
    """An Airflow step failed; the message says where to look."""


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def airflow_env(settings: Settings) -> dict[str, str]:
    home = settings.airflow_home
    env = {
        **os.environ,
        **settings.tool_environment(),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{settings.airflow_port}",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # airflow_local_settings.py: the scheduler preloads what the tasks it forks import.
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO_ROOT / "airflow_config"), os.environ.get("PYTHONPATH")) if p
        ),
    }
    if settings.airflow_db_url:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = settings.airflow_db_url
    return env


def _run(settings: Settings, *args: str, what: str) -> None:
    log = settings.run_dir / "airflow-cli.log"
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        completed = subprocess.run(
            [_airflow(), *args], env=airflow_env(settings), stdout=handle, stderr=subprocess.STDOUT
        )
    if completed.returncode != 0:
        raise AirflowError(
            f"`airflow {' '.join(args)}` ({what}) failed; log {log}:\n{processes.log_tail(log, 25)}"
        )


def prepare(settings: Settings) -> None:
    """Migrate the metadata database, set the UI password and create a pool per source system
    (all idempotent)."""
    from connectors.registry import load_registry
    from iochub.assets import pool_definitions

    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    passwords = settings.airflow_home / "passwords.json"
    passwords.write_text(json.dumps({"admin": settings.admin_password}))
    passwords.chmod(0o600)
    _run(settings, "db", "migrate", what="metadata database migration")
    pools = settings.airflow_home / "pools.json"
    pools.write_text(json.dumps(pool_definitions(list(load_registry(settings).values())), indent=1))
    _run(settings, "pools", "import", str(pools), what="pools of the source systems")


def test_dag(settings: Settings, dag_id: str) -> None:
    """Run one DAG to completion in this machine's Airflow (``airflow dags test``)."""
    _run(settings, "dags", "test", dag_id, what=f"run of {dag_id}")
    _check_last_run(settings, dag_id)


def _check_last_run(settings: Settings, dag_id: str) -> None:
    # `airflow dags test` exits 0 even when the run fails: read the run's state back.
    completed = subprocess.run(
        [_airflow(), "dags", "list-runs", dag_id, "--output", "json"],
        env=airflow_env(settings),
        capture_output=True,
        text=True,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("[")]
    runs = json.loads(lines[-1]) if lines else []
    if not runs or runs[0].get("state") != "success":
        state = runs[0].get("state") if runs else "no run"
        raise AirflowError(
            f"{dag_id} ended {state}; see its task logs under {settings.airflow_home}/logs"
        )


def start(settings: Settings) -> None:
    if processes.port_in_use(settings.airflow_port) and not processes.running_pid(
        settings, "airflow-api-server"
    ):
        raise AirflowError(
            f"Port {settings.airflow_port} is in use by another program: stop it or set "
            "IOC_AIRFLOW_PORT."
        )
    for name, args in SERVICES.items():
        processes.start(settings, name, [_airflow(), *args], env=airflow_env(settings))
    processes.wait_for_http(
        f"http://127.0.0.1:{settings.airflow_port}/api/v2/monitor/health",
        timeout=180,
        log=settings.run_dir / "airflow-api-server.log",
    )


def stop(settings: Settings) -> list[str]:
    return [name for name in SERVICES if processes.stop(settings, name)]
