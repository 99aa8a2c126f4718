"""Settings for every stage of the data flow, read from the environment in one place.

Defaults make the laptop demo work with nothing set: everything lives under ``IOC_HOME``
(``./data``). Production points the same variables at real paths and secrets; no other module
reads environment variables (Airflow and dbt get theirs from :func:`tool_environment`).
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Resolved paths, ports and secrets of one iochub installation."""

    home: Path
    airflow_port: int
    superset_port: int
    superset_public_url: str | None = None
    superset_db_url: str | None = None
    airflow_db_url: str | None = None
    # Database servers the demo province's systems are loaded into (SQLite files when down).
    sim_pg_url: str = "postgresql://postgres@127.0.0.1:5432"
    sim_mysql_url: str = "mysql://root@127.0.0.1:3306"
    sim_db_prefix: str = "sim_"
    # The simulated province's HTTP servers listen on this base + a fixed offset per server.
    sim_port_base: int = 18700
    # Where the demo province lives; IOC_HOME/sim unless IOC_SIM_DIR says otherwise (tests
    # share one generated province between many throwaway homes).
    sim_dir_override: Path | None = None
    # Where open alerts are sent after each publish (iochub.alerts); none set = not sent.
    alert_webhook_url: str | None = None
    alert_smtp: str | None = None  # host:port of the mail relay
    alert_email_from: str = "iochub@localhost"
    alert_email_to: tuple[str, ...] = ()
    # First wait before an extract task retries (doubling each retry, up to 10 minutes).
    extract_retry_delay_seconds: float = 30.0
    # Processes that decode files while the extract lands them (big inboxes only; 1 = none).
    extract_workers: int = os.cpu_count() or 1
    # DuckDB's budget in every iochub process (dbt, landing, gate, publish, lake copies): its
    # default is 80 % of the machine's memory per process, which took 19 GB in a scale-1 dbt
    # build. 2 GB leaves an 8 GB laptop room for Superset, Airflow and a second DuckDB process;
    # above it, DuckDB spills to IOC_HOME/tmp/duckdb.
    duckdb_memory: str = "2GB"
    duckdb_threads: int = os.cpu_count() or 1
    # Airflow's task slots (LocalExecutor processes running at once).
    airflow_parallelism: int = 4

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("IOC_HOME", REPO_ROOT / "data")).resolve()
        return cls(
            home=home,
            airflow_port=int(os.environ.get("IOC_AIRFLOW_PORT", "8080")),
            superset_port=int(os.environ.get("IOC_SUPERSET_PORT", "8088")),
            # The address browsers (the wall screens) use to reach Superset.
            superset_public_url=os.environ.get("IOC_SUPERSET_PUBLIC_URL") or None,
            # Metadata databases: SQLite under IOC_HOME unless a URL (PostgreSQL) is given.
            superset_db_url=os.environ.get("IOC_SUPERSET_DB_URL") or None,
            airflow_db_url=os.environ.get("IOC_AIRFLOW_DB_URL") or None,
            sim_pg_url=os.environ.get("IOC_SIM_PG_URL", cls.sim_pg_url),
            sim_mysql_url=os.environ.get("IOC_SIM_MYSQL_URL", cls.sim_mysql_url),
            sim_db_prefix=os.environ.get("IOC_SIM_DB_PREFIX", cls.sim_db_prefix),
            sim_port_base=int(os.environ.get("IOC_SIM_PORT_BASE", cls.sim_port_base)),
            sim_dir_override=(
                Path(os.environ["IOC_SIM_DIR"]).resolve() if os.environ.get("IOC_SIM_DIR") else None
            ),
            alert_webhook_url=os.environ.get("IOC_ALERT_WEBHOOK_URL") or None,
            alert_smtp=os.environ.get("IOC_ALERT_SMTP") or None,
            alert_email_from=os.environ.get("IOC_ALERT_EMAIL_FROM", cls.alert_email_from),
            alert_email_to=tuple(
                address.strip()
                for address in os.environ.get("IOC_ALERT_EMAIL_TO", "").split(",")
                if address.strip()
            ),
            extract_retry_delay_seconds=float(
                os.environ.get("IOC_EXTRACT_RETRY_DELAY", cls.extract_retry_delay_seconds)
            ),
            extract_workers=max(1, int(os.environ.get("IOC_EXTRACT_WORKERS", cls.extract_workers))),
            duckdb_memory=_memory(os.environ.get("IOC_DUCKDB_MEMORY", cls.duckdb_memory)),
            duckdb_threads=max(1, int(os.environ.get("IOC_DUCKDB_THREADS", cls.duckdb_threads))),
            airflow_parallelism=max(
                1, int(os.environ.get("IOC_AIRFLOW_PARALLELISM", cls.airflow_parallelism))
            ),
        )

    # --- storage layout (see DESIGN.md "Storage") -------------------------------------------
    @property
    def sim_topic_root(self) -> str:
        """The MQTT topic root of the demo province's stations, one per database prefix, so two
        provinces served at once (a demo and a test session) do not hear each other."""
        return "iochub/" + (self.sim_db_prefix.rstrip("_") or "sim")

    @property
    def sim_dir(self) -> Path:
        return self.sim_dir_override or self.home / "sim"

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def raw_dir(self) -> Path:
        return self.lake_dir / "raw"

    @property
    def quarantine_dir(self) -> Path:
        return self.lake_dir / "quarantine"

    @property
    def manifest_dir(self) -> Path:
        return self.lake_dir / "_manifests"

    @property
    def data_docs_dir(self) -> Path:
        """Great Expectations' Data Docs of the publish gate, one folder per run."""
        return self.home / "data_docs"

    @property
    def failure_dir(self) -> Path:
        return self.lake_dir / "_failures"

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def duckdb_temp_dir(self) -> Path:
        """Where DuckDB spills what does not fit in ``duckdb_memory``."""
        return self.home / "tmp" / "duckdb"

    def duckdb_config(self) -> dict[str, str | bool | int | float | list[str]]:
        """``config=`` for every ``duckdb.connect`` iochub makes: the memory budget, threads
        and the spill folder (created here: DuckDB does not create it)."""
        self.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
        return {
            "memory_limit": self.duckdb_memory,
            "threads": self.duckdb_threads,
            "temp_directory": str(self.duckdb_temp_dir),
        }

    @property
    def build_db(self) -> Path:
        return self.warehouse_dir / "build.duckdb"

    @property
    def serving_db(self) -> Path:
        return self.warehouse_dir / "serving.duckdb"

    @property
    def geo_layers_dir(self) -> Path:
        """The GIS layers of the last build as GeoParquet (geo.layers)."""
        return self.warehouse_dir / "geo"

    @property
    def geo_boundaries_file(self) -> Path:
        """Official commune boundaries loaded with ``ioc geo load-boundaries`` (geo.boundaries);
        absent while the build uses approximate zones."""
        return self.home / "geo" / "boundaries" / "communes.parquet"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def superset_home(self) -> Path:
        return self.home / "superset"

    @property
    def run_dir(self) -> Path:
        """PID files and logs of the background services ``make demo`` starts."""
        return self.home / "run"

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    # --- code locations ----------------------------------------------------------------------
    @property
    def sources_dir(self) -> Path:
        return Path(os.environ.get("IOC_SOURCES_DIR", REPO_ROOT / "connectors" / "sources"))

    @property
    def dbt_project_dir(self) -> Path:
        return REPO_ROOT / "dbt_project"

    @property
    def dags_dir(self) -> Path:
        return REPO_ROOT / "dags"

    @property
    def pipeline_venv(self) -> Path:
        return REPO_ROOT / ".venv"

    @property
    def superset_venv(self) -> Path:
        return REPO_ROOT / ".venv-superset"

    @property
    def dbt_executable(self) -> Path:
        """The ``dbt`` of the environment this process runs in (the pipeline's ``.venv``)."""
        return Path(sys.executable).with_name("dbt")

    # --- secrets -----------------------------------------------------------------------------
    @cached_property
    def pii_key(self) -> bytes:
        """Key of the HMAC that pseudonymises personal data at landing.

        ``IOC_PII_KEY`` in production. For the laptop demo a random key is generated once and
        kept in ``state/pii.key``: pseudonyms stay stable across runs (joins across sources keep
        working) and no key ever sits in the repository.
        """
        env_key = os.environ.get("IOC_PII_KEY")
        if env_key:
            return env_key.encode()
        return _local_secret(self.state_dir / "pii.key").encode()

    @cached_property
    def superset_secret_key(self) -> str:
        return os.environ.get("SUPERSET_SECRET_KEY") or _local_secret(
            self.superset_home / "secret.key"
        )

    @cached_property
    def admin_password(self) -> str:
        """Password of the demo's ``admin`` user in Superset (generated once, kept locally)."""
        return os.environ.get("IOC_ADMIN_PASSWORD") or _local_secret(
            self.superset_home / "admin.password", nbytes=9
        )

    @property
    def demo_users_password_file(self) -> Path:
        return self.superset_home / "users.password"

    @cached_property
    def demo_users_password(self) -> str:
        """Password of the demo users of ``superset_assets/access.yaml`` (all share it;
        generated once per installation, kept locally)."""
        return os.environ.get("IOC_DEMO_USERS_PASSWORD") or _local_secret(
            self.demo_users_password_file, nbytes=9
        )

    def tool_environment(self) -> dict[str, str]:
        """Environment for Airflow, dbt and Superset processes started by iochub."""
        return {
            "IOC_HOME": str(self.home),
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_dir),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": str(self.airflow_parallelism),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__API__PORT": str(self.airflow_port),
            "AIRFLOW__API__WORKERS": "1",
            "DO_NOT_TRACK": "1",
            "GX_ANALYTICS_ENABLED": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "IOC_BUILD_DB": str(self.build_db),
            "IOC_LAKE": str(self.lake_dir),
            # dbt's DuckDB connection (profiles.yml) gets the same budget as iochub's own.
            "IOC_DUCKDB_MEMORY": self.duckdb_memory,
            "IOC_DUCKDB_THREADS": str(self.duckdb_threads),
            "IOC_DUCKDB_TEMP": str(self.duckdb_temp_dir),
        }


_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def _memory(value: str) -> str:
    """A DuckDB memory size ("2GB", "1500MB", "4GiB"), refused early with what to write."""
    if not _MEMORY.match(value):
        raise ValueError(
            f"IOC_DUCKDB_MEMORY={value!r} is not a memory size: write a number and a unit, "
            "e.g. 2GB, 1500MB or 4GiB"
        )
    return value.replace(" ", "")


_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS.update({"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40})


def duckdb_bytes(size: str) -> int:
    """A DuckDB memory size in bytes ("2GB" = 2·10⁹, as DuckDB reads it; "2GiB" = 2·2³⁰)."""
    number, unit = re.findall(r"[\d.]+|[A-Za-z]+", size)[:2]
    return int(float(number) * _UNITS[unit.upper()])


def _local_secret(path: Path, nbytes: int = 32) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    os.replace(tmp, path)
    return value


def get_settings() -> Settings:
    return Settings.from_env()
