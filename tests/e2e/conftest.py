"""Fixtures of the end-to-end tests: a whole iochub in a temporary IOC_HOME, and Chromium.

The browser is Debian's ``chromium`` package (``apt-get install -y chromium``), driven by the
Playwright Python package; Playwright's own browser download is never used (no internet).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iochub.browser import CHROMIUM, launch_options
from iochub.pipeline import run_pipeline
from iochub.processes import free_port
from iochub.settings import REPO_ROOT, Settings
from simulator.fixtures import seed_xml130_inbox
from tests.e2e.market_prices import seed_market_prices

# Counts, in the browser, the pixels of a PNG screenshot (base64): the offline base-map tile's
# light paper colour (superset_config.py), points in the health map's blue, and anything drawn
# in a saturated colour (zones, stations, points).
PIXELS_JS = """
async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, img.width, img.height).data;
  let points = 0, tile = 0, drawn = 0;
  for (let i = 0; i < px.length; i += 4) {
    const r = px[i], g = px[i + 1], b = px[i + 2];
    if (Math.abs(r - 242) <= 6 && Math.abs(g - 241) <= 6 && Math.abs(b - 236) <= 6) tile++;
    else if (Math.max(r, g, b) - Math.min(r, g, b) > 25) drawn++;
    if (b > 150 && b - r > 80) points++;
  }
  return {points, tile, drawn, total: img.width * img.height};
}
"""


@pytest.fixture(scope="session")
def chromium_launch() -> dict[str, Any]:
    """Keyword arguments of ``playwright.chromium.launch`` for Debian's Chromium."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is missing: `apt-get install -y chromium` (as root).")
    return launch_options()


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


@pytest.fixture(scope="session")
def fixture_warehouse_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An IOC_HOME where the real pipeline landed the fixtures' claim files and a few farm-gate
    prices, built, gated and published once per session; each module's ``serving_db`` copies it
    (a copy takes a second, the pipeline over a minute)."""
    home = tmp_path_factory.mktemp("fixture_warehouse")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOC_HOME", str(home))
        settings = Settings.from_env()
        seed_xml130_inbox(settings.sim_dir)
        url = seed_market_prices(settings.sim_dir / "agriculture" / "DT03.sqlite")
        patch.setenv("IOC_AGRI_DT03_URL", url)
        run_pipeline(settings, ["health_xml130", "agri_dt03"])
        assert settings.serving_db.exists(), "the pipeline published no serving.duckdb"
    return home


@pytest.fixture(scope="module")
def serving_db(ioc_home: Settings, fixture_warehouse_home: Path) -> Path:
    """The published warehouse of ``ioc_home``, made by the real pipeline from the fixtures
    (with its lake and data docs: the session's build, copied)."""
    shutil.copytree(fixture_warehouse_home, ioc_home.home, symlinks=True, dirs_exist_ok=True)
    return ioc_home.serving_db
