"""Landing throughput: the files connector over an inbox of many XML 130 files.

Copies the fixture's valid files N times (each copy made unique, as real files are) into a
temporary inbox and lands them, pseudonymisation and manifest included, decoding in worker
processes (one per CPU) as an inbox this size does; then the same decoded in the extract's own
process, and without the landing-batch suites (expectations.landing), side by side, to show what
each costs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from unittest import mock

from connectors.extract import run_extract
from connectors.landing import BatchWriter
from iochub.settings import Settings
from simulator.fixtures import XML130_INBOX

COPIES = 40


def _inbox(root: Path) -> Path:
    inbox = root / "sim" / "health" / "xml130" / "inbox"
    valid = [p for p in XML130_INBOX.rglob("*.xml") if "20250807" not in p.name]
    for copy in range(COPIES):
        for path in valid:
            target = inbox / f"copy{copy:03d}" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes() + f"<!-- copy {copy} -->".encode())
    return inbox


def landing_cases() -> list[tuple[str, str, Callable[[], int], int]]:
    root = Path(tempfile.mkdtemp(prefix="iochub-bench-"))
    _inbox(root)
    os.environ.setdefault("IOC_PII_KEY", "bench-key")

    def land(workers: int | None = None) -> int:
        home = root / "home"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir()
        (home / "sim").symlink_to(root / "sim")
        settings = Settings(home=home, airflow_port=0, superset_port=0)
        if workers is not None:
            settings = replace(settings, extract_workers=workers)
        manifest = run_extract("health_xml130", settings)
        return manifest.items_in

    def land_without_suites() -> int:
        # The comparison only: landing never skips its suites.
        with mock.patch.object(BatchWriter, "_validate", lambda self, spec, clean: None):
            return land()

    return [
        ("files connector landing (files)", f"{COPIES * 3} XML 130 files", land, 5),
        (
            "files connector landing (files)",
            f"{COPIES * 3} XML 130 files, decoded in one process",
            lambda: land(workers=1),
            5,
        ),
        (
            "files connector landing (files)",
            f"{COPIES * 3} XML 130 files, no landing suites",
            land_without_suites,
            5,
        ),
    ]
