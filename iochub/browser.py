"""The browser that checks and measures the dashboards: Debian's ``chromium`` package driven
headless by Playwright (its own browser download needs the internet, which the machines running
iochub do not have). Used by the end-to-end tests and ``python -m bench dashboards``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


def launch_options() -> dict[str, Any]:
    """Keyword arguments of Playwright's ``chromium.launch`` for Debian's Chromium."""
    return {"executable_path": str(CHROMIUM), "args": list(CHROMIUM_ARGS)}
