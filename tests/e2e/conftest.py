"""Fixtures of the end-to-end tests: a whole iochub in a temporary IOC_HOME, and Chromium.

The browser is Debian's ``chromium`` package (``apt-get install -y chromium``), driven by the
Playwright Python package; Playwright's own browser download is never used (no internet).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iochub.pipeline import run_pipeline
from iochub.processes import free_port
from iochub.settings import REPO_ROOT, Settings
from simulator.fixtures import seed_xml130_inbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_launch() -> dict[str, Any]:
    """Keyword arguments of ``playwright.chromium.launch`` for Debian's Chromium."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is missing: `apt-get install -y chromium` (as root).")
    return {"executable_path": str(CHROMIUM), "args": list(CHROMIUM_ARGS)}


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots land in <repo>/data/artifacts whatever IOC_HOME the test uses."""
    path = REPO_ROOT / "data" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def ioc_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a fresh installation in a temporary IOC_HOME, Superset on a free port."""
    if not (REPO_ROOT / ".venv-superset" / "bin" / "superset").exists():
        pytest.skip("No .venv-superset: create it with `make` first.")
    home = tmp_path_factory.mktemp("ioc_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOC_HOME", str(home))
        patch.setenv("IOC_SUPERSET_PORT", str(free_port()))
        patch.delenv("IOC_SUPERSET_PUBLIC_URL", raising=False)
        yield Settings.from_env()


@pytest.fixture(scope="module")
def serving_db(ioc_home: Settings) -> Path:
    """The published warehouse of ``ioc_home``, made by the real pipeline from the fixtures."""
    seed_xml130_inbox(ioc_home.sim_dir)
    run_pipeline(ioc_home, ["health_xml130"])
    assert ioc_home.serving_db.exists(), "the pipeline published no serving.duckdb"
    return ioc_home.serving_db
