"""Test-wide settings: every test runs against a throwaway IOC_HOME, never ./data.

Set at import, before any test imports Airflow (which reads AIRFLOW_HOME once, at import).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
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
