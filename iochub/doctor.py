"""``ioc doctor``: checks that this machine can run iochub and says how to fix what cannot.

Checks both environments and their pinned versions, the services the connectors talk to, the
ports the demo serves on, and free disk. Each problem comes with the command that fixes it.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import shutil
import subprocess
from dataclasses import dataclass
from enum import StrEnum

from iochub import processes
from iochub.settings import Settings, duckdb_bytes


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


# Why each pin matters is in DESIGN.md ("Environments and versions").
PIPELINE_PINS = {
    "apache-airflow": lambda v: v.startswith("3."),
    "dbt-core": lambda v: tuple(int(p) for p in v.split(".")[:2]) < (1, 12),
    "dbt-duckdb": lambda v: True,
    "duckdb": lambda v: v == "1.5.5",
    "astronomer-cosmos": lambda v: True,
    "great-expectations": lambda v: v.startswith("1."),
    "vietnamadminunits": lambda v: True,
}
SERVICES = {
    "PostgreSQL": (
        5432,
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    ),
    "MariaDB": (3306, "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"),
    "Mosquitto (MQTT)": (1883, "mosquitto -d -c /etc/mosquitto/mosquitto.conf"),
}
MIN_FREE_GB = 2.0


def _pipeline_checks() -> list[Check]:
    checks = []
    for package, ok in PIPELINE_PINS.items():
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            checks.append(Check(f".venv: {package}", Status.FAIL, "not installed", "make setup"))
            continue
        checks.append(_pinned(f".venv: {package}", version, ok(version)))
    return checks


def _superset_checks(settings: Settings) -> list[Check]:
    python = settings.superset_venv / "bin" / "python"
    if not python.exists():
        return [Check(".venv-superset", Status.FAIL, "missing", "make setup")]
    probe = (
        "import importlib.metadata as m;"
        "print(m.version('apache-superset'), m.version('duckdb'), m.version('duckdb-engine'))"
    )
    completed = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    if completed.returncode != 0:
        return [
            Check(".venv-superset", Status.FAIL, "broken: " + completed.stderr[-200:], "make setup")
        ]
    superset, duckdb, engine = completed.stdout.split()
    pipeline_duckdb = metadata.version("duckdb")
    return [
        _pinned(".venv-superset: apache-superset", superset, superset.startswith("6.")),
        _pinned(
            ".venv-superset: duckdb",
            f"{duckdb} (pipeline has {pipeline_duckdb}; must be equal)",
            duckdb == pipeline_duckdb,
        ),
        Check(".venv-superset: duckdb-engine", Status.OK, engine),
    ]


def _pinned(name: str, detail: str, ok: bool) -> Check:
    return Check(name, Status.OK if ok else Status.FAIL, detail, "" if ok else "make setup")


def _service_checks() -> list[Check]:
    checks = []
    for name, (port, fix) in SERVICES.items():
        up = processes.port_in_use(port)
        state = "answers" if up else "not answering (the demo falls back to embedded files)"
        checks.append(
            Check(
                name,
                Status.OK if up else Status.WARN,
                f"127.0.0.1:{port} {state}",
                "" if up else fix,
            )
        )
    return checks


def _port_checks(settings: Settings) -> list[Check]:
    checks = []
    for port, ours, what in (
        (settings.airflow_port, "airflow-api-server", "Airflow UI"),
        (settings.superset_port, "superset", "Superset"),
    ):
        in_use = processes.port_in_use(port)
        mine = processes.running_pid(settings, ours) is not None
        if not in_use or mine:
            detail = f"{port} {'used by the demo' if mine else 'free'}"
            checks.append(Check(f"port {port} ({what})", Status.OK, detail))
        else:
            checks.append(
                Check(
                    f"port {port} ({what})",
                    Status.FAIL,
                    f"{port} is taken by another program",
                    f"stop it (`ss -ltnp 'sport = :{port}'` shows which) or set "
                    f"IOC_{'AIRFLOW' if port == settings.airflow_port else 'SUPERSET'}_PORT",
                ),
            )
    return checks


def _disk_check(settings: Settings) -> Check:
    target = settings.home if settings.home.exists() else settings.home.parent
    free_gb = shutil.disk_usage(target).free / 1e9
    ok = free_gb >= MIN_FREE_GB
    return Check(
        "disk",
        Status.OK if ok else Status.FAIL,
        f"{free_gb:.1f} GB free at {target}",
        "" if ok else f"free at least {MIN_FREE_GB} GB or point IOC_HOME at a larger disk",
    )


def _memory_check(settings: Settings) -> Check:
    """DuckDB's budget per process against the machine's memory: two processes (a build and
    an extract) may run at once beside Superset and Airflow."""
    budget = duckdb_bytes(settings.duckdb_memory)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    ok = 2 * budget <= total // 2
    return Check(
        "duckdb memory budget",
        Status.OK if ok else Status.WARN,
        f"{settings.duckdb_memory} per process, {settings.duckdb_threads} thread(s), spill to "
        f"{settings.duckdb_temp_dir} ({total / 2**30:.0f} GiB in the machine)",
        "" if ok else "lower IOC_DUCKDB_MEMORY to at most a quarter of the machine's memory",
    )


def _browser_check() -> Check:
    found = shutil.which("chromium") or shutil.which("/usr/bin/chromium")
    return Check(
        "chromium (browser tests)",
        Status.OK if found else Status.WARN,
        found or "not installed (needed by `make test` only)",
        "" if found else "apt-get install -y chromium",
    )


def run_checks(settings: Settings) -> list[Check]:
    return [
        *_pipeline_checks(),
        *_superset_checks(settings),
        *_service_checks(),
        *_port_checks(settings),
        _disk_check(settings),
        _memory_check(settings),
        _browser_check(),
    ]
