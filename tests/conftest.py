"""Test-wide settings: every test runs against a throwaway IOC_HOME, never ./data.

Set at import, before any test imports Airflow (which reads AIRFLOW_HOME once, at import).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="iochub-test-"))
os.environ["IOC_HOME"] = str(_SESSION_HOME)
os.environ["IOC_PII_KEY"] = "test-key-not-secret"
# Databases the simulator tests create on the shared servers never clobber the demo's (sim_*).
os.environ["IOC_SIM_DB_PREFIX"] = "simtest_"
os.environ["IOC_SIM_PORT_BASE"] = "28700"  # and their servers never collide with `ioc sim serve`
os.environ.pop("IOC_HEALTH_XML130_INBOX", None)

from iochub.settings import Settings, get_settings  # noqa: E402

for _key, _value in get_settings().tool_environment().items():
    os.environ.setdefault(_key, _value)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings of a fresh, empty IOC_HOME for one test."""
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    yield get_settings()


# --- One demo province for connector, warehouse and KPI tests --------------------------------
# Generated once per session at scale 0.01 over June–October 2025 (both sides of the 1 July
# reorganisation, one education term export), loaded into the real PostgreSQL and MariaDB under
# its own database prefix and served on its own port base, both derived from the process id, so
# the simulator's tests, a running ``ioc sim serve`` and another test session at the same time
# never collide with it. Its databases are dropped at the end. Each test lands into its own
# throwaway IOC_HOME that points at this province (IOC_SIM_DIR).

_SLOT = os.getpid() % 100
PROVINCE_ENV = {
    "IOC_SIM_DB_PREFIX": f"simc{_SLOT:02d}_",
    "IOC_SIM_PORT_BASE": str(30000 + 150 * _SLOT),  # servers sit at base + up to 100
}


def point_at_province(patch: pytest.MonkeyPatch, province: Settings, home: Path) -> None:
    """Make ``home`` the IOC_HOME, with the session's province as its sources."""
    for key, value in PROVINCE_ENV.items():
        patch.setenv(key, value)
    patch.setenv("IOC_SIM_DIR", str(province.sim_dir))
    patch.setenv("IOC_HOME", str(home))


def simulated_sources(settings: Settings) -> list[str]:
    """The registered sources the demo province simulates: the ones a whole-province test can
    land (a source declared ``simulated: false`` has no system here)."""
    from connectors.registry import load_registry

    return [name for name, source in load_registry(settings).items() if source.simulated]


def _drop_databases(settings: Settings) -> None:
    import psycopg
    import pymysql  # type: ignore[import-untyped,unused-ignore]

    prefix = settings.sim_db_prefix
    with psycopg.connect(f"{settings.sim_pg_url}/postgres", autocommit=True) as pg:
        names = pg.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"]
        ).fetchall()
        for (name,) in names:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    my = pymysql.connect(host="127.0.0.1", port=3306, user="root")
    try:
        with my.cursor() as cursor:
            cursor.execute("SHOW DATABASES LIKE %s", [prefix + "%"])
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        my.close()


@contextmanager
def serving_province(
    patch: pytest.MonkeyPatch, root: Path, env: dict[str, str], seed: int, start: date, end: date
) -> Iterator[Settings]:
    """A demo province at scale 0.01 generated into ``root/sim`` (its databases on the shared
    servers under ``env``'s prefix) and served, with ``env``, IOC_HOME and IOC_SIM_DIR set on
    ``patch``; on exit its servers stop and its databases are dropped."""
    from simulator.generate import GenerateParams, generate
    from simulator.serve import start_all, stop_all

    for key, value in env.items():
        patch.setenv(key, value)
    patch.setenv("IOC_HOME", str(root / "home"))
    patch.setenv("IOC_SIM_DIR", str(root / "sim"))
    settings = get_settings()
    params = GenerateParams(
        scale=0.01,
        seed=seed,
        start=start,
        end=end,
        pg_url=settings.sim_pg_url,
        mysql_url=settings.sim_mysql_url,
        db_prefix=settings.sim_db_prefix,
    )
    generate(settings.sim_dir, params)
    start_all(settings)
    try:
        yield settings
    finally:
        stop_all(settings)
        _drop_databases(settings)


@pytest.fixture(scope="session")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings whose sim_dir holds the generated province, with `ioc sim serve` running."""
    root = tmp_path_factory.mktemp("province")
    patch = pytest.MonkeyPatch()
    with serving_province(
        patch, root, PROVINCE_ENV, seed=11, start=date(2025, 6, 1), end=date(2025, 10, 31)
    ) as settings:
        # The environment is restored here: only tests that ask for ``lake_home`` see it.
        patch.undo()
        yield settings


@pytest.fixture
def lake_home(
    province: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings of a fresh, empty IOC_HOME whose sources are the session's province."""
    point_at_province(monkeypatch, province, tmp_path / "home")
    assert os.environ["IOC_SIM_DIR"] == str(province.sim_dir)
    yield get_settings()


@pytest.fixture(scope="session")
def province_warehouse(
    province: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """The whole province landed and the warehouse built once per session: every source must
    land and ``dbt build`` must pass (models and tests). dbt's artifacts of this build are kept
    under ``<home>/dbt_target`` (run_results.json, manifest.json)."""
    from iochub.pipeline import extract_all
    from iochub.warehouse import run_dbt

    home = tmp_path_factory.mktemp("warehouse") / "home"
    with pytest.MonkeyPatch.context() as patch:
        point_at_province(patch, province, home)
        patch.setenv("DBT_TARGET_PATH", str(home / "dbt_target"))
        patch.setenv("DBT_LOG_PATH", str(home / "dbt_logs"))
        settings = get_settings()
        outcome = extract_all(settings, simulated_sources(settings))
        assert outcome.failures == {}, outcome.failures
        run_dbt(settings, "build")
    yield settings
