"""docs/adding-a-source.md followed literally, in a temporary copy of the project.

A 29th agriculture system appears: a SQLite database with one table of planting registrations
(a primary key, an update timestamp, the registrant's name and CCCD, the commune code). The
test writes nothing but what the doc tells a data engineer to run — ``ioc sources new
--from-db``, ``ioc sources validate``, ``ioc dbt sources``, ``ioc extract``, ``ioc build`` —
and checks what the doc promises: the latest version of each record is in ``serving.duckdb``
(``marts.src_<source>__<table>``, personal data pseudonymised), a re-run lands nothing, and an
update at the source lands exactly the changed rows and moves the published total.

The copy is the committed tree (``git ls-files``) with this checkout's environments linked in,
and the commands run from it, so the scaffold writes into the copy and the copy's dbt project
is built; the checkout is never touched. The demo province is not involved.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from iochub.settings import REPO_ROOT

pytestmark = pytest.mark.integration

NAME = "agri_dk01"
TABLE = "dang_ky_trong_trot"
KEYS = 120
UPDATED = 3


def _copy_project(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True, capture_output=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, copy = REPO_ROOT / name, target / name
        if source.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(source.read_bytes())
    for environment in (".venv", ".tools"):
        if (REPO_ROOT / environment).exists():
            (target / environment).symlink_to(REPO_ROOT / environment)
    return target


def _registrations(path: Path) -> None:
    """The system's table: 120 registrations in communes of the province."""
    communes = ["28249", "28261", "29992", "30154"]
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE dang_ky_trong_trot ("
            " ma_dang_ky INTEGER PRIMARY KEY, ho_ten TEXT NOT NULL, so_cccd TEXT NOT NULL,"
            " ma_xa TEXT NOT NULL, cay_trong TEXT, dien_tich_ha REAL NOT NULL,"
            " updated_at TEXT NOT NULL)"
        )
        db.executemany(
            "INSERT INTO dang_ky_trong_trot VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    key,
                    f"Nguyễn Văn {chr(65 + key % 26)}",
                    f"0871{key:08d}",
                    communes[key % len(communes)],
                    "lúa" if key % 3 else "xoài",
                    1.5 + key % 7,
                    f"2025-09-{1 + key % 28:02d} 08:00:00",
                )
                for key in range(1, KEYS + 1)
            ],
        )
    db.close()


class Project:
    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home

    def ioc(self, *args: str) -> str:
        completed = subprocess.run(
            [sys.executable, "-m", "iochub.cli", *args],
            cwd=self.root,
            env={
                **os.environ,
                "PYTHONPATH": str(self.root),
                "IOC_HOME": str(self.home),
                "IOC_SOURCES_DIR": str(self.root / "connectors" / "sources"),
                "COLUMNS": "200",  # the console's lines unwrapped
            },
            capture_output=True,
            text=True,
            timeout=1800,
        )
        said = completed.stdout + completed.stderr  # the console reports on stderr
        assert completed.returncode == 0, f"ioc {' '.join(args)}:\n{said[-4000:]}"
        return said

    def published(self) -> tuple[int, float, set[str]]:
        """Rows and area of the published table, and its names as published."""
        serving = self.home / "warehouse" / "serving.duckdb"
        with duckdb.connect(str(serving), read_only=True) as con:
            found = con.execute(
                f"select count(*), sum(dien_tich_ha) from marts.src_{NAME}__{TABLE}"
            ).fetchone()
            published = con.execute(f"select ho_ten from marts.src_{NAME}__{TABLE}").fetchall()
        assert found is not None
        names = {str(row[0]) for row in published}
        return int(found[0]), float(found[1]), names

    def last_landed(self) -> dict[str, int]:
        """Rows the source's latest committed extract run landed, per table."""
        manifests = sorted((self.home / "lake" / "_manifests" / NAME).glob("*.json"))
        assert manifests, "no committed extract run"
        landed: dict[str, int] = json.loads(manifests[-1].read_text())["rows_landed"]
        return {table: rows for table, rows in landed.items() if rows}


def test_the_walk_through_publishes_the_latest_version_of_each_record(
    tmp_path: Path,
) -> None:
    project = Project(_copy_project(tmp_path / "project"), tmp_path / "home")
    database = tmp_path / "dk01.sqlite"
    _registrations(database)

    printed = project.ioc(
        "sources", "new", NAME, "--sector", "agriculture", "--from-db", f"sqlite:///{database}"
    )
    assert "guessed pii: ho_ten" in printed and "guessed pii: so_cccd" in printed
    project.ioc("sources", "validate")
    project.ioc("dbt", "sources")
    project.ioc("extract", NAME)
    project.ioc("build")

    with sqlite3.connect(database) as db:
        total = db.execute("select sum(dien_tich_ha) from dang_ky_trong_trot").fetchone()[0]
    db.close()
    rows, area, names = project.published()
    assert (rows, area) == (KEYS, pytest.approx(total))
    assert project.last_landed() == {TABLE: KEYS}
    # Names were pseudonymised at landing, as the scaffold declared from the values it saw.
    assert not any("Nguyễn" in name for name in names), sorted(names)[:3]

    # Nothing changed at the source: nothing lands.
    project.ioc("extract", NAME)
    assert project.last_landed() == {}

    # Three registrations corrected: exactly those land, the published total moves by 15 ha.
    with sqlite3.connect(database) as db:
        db.execute(
            "update dang_ky_trong_trot set dien_tich_ha = dien_tich_ha + 5, "
            "updated_at = '2025-10-02 09:00:00' where ma_dang_ky in (7, 8, 9)"
        )
    db.close()
    project.ioc("extract", NAME)
    assert project.last_landed() == {TABLE: UPDATED}
    project.ioc("build")
    rows, area_after, _ = project.published()
    assert (rows, area_after) == (KEYS, pytest.approx(total + 5 * UPDATED))
