"""docs/adding-a-source.md followed literally, in a temporary copy of the project.

Three systems appear, one of each shape the doc walks through:

- a SQL table: a SQLite database of 120 planting registrations (a primary key, an update
  timestamp, the registrant's name and CCCD, the commune code);
- a CSV drop folder: a district veterinary station drops one file of vaccinations a day (the
  farmer's name and phone number in clear);
- a JSON API: the cooperatives' register, paged, filtered by ``updated_since``, a phone number
  per cooperative.

The test writes nothing but what the doc tells a data engineer to run — ``ioc sources new``
(``--from-db``, ``--from-file``, ``--from-url``), ``ioc sources validate``, ``ioc dbt sources``,
``ioc extract``, ``ioc build`` — and checks what the doc promises: the latest version of each
record is in ``serving.duckdb`` (``marts.src_<source>__<table>``, personal data pseudonymised),
a re-run lands nothing, and a change at the source lands exactly the changed rows and moves
the published total. It prints what the doc's "Measured" section reports: seconds per step and
the lines each walk-through wrote.

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
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from iochub.settings import REPO_ROOT

pytestmark = pytest.mark.integration

COMMUNES = ["28249", "28261", "29992", "30154"]
SQL_NAME, SQL_TABLE, KEYS, UPDATED = "agri_dk01", "dang_ky_trong_trot", 120, 3
CSV_NAME, CSV_TABLE = "agri_dk02", "tiem_phong"
API_NAME, API_TABLE, COOPERATIVES, PAGE = "agri_dk03", "hop_tac_xa", 45, 20


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
    """The SQL system's table: 120 registrations in communes of the province."""
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
                    COMMUNES[key % len(COMMUNES)],
                    "lúa" if key % 3 else "xoài",
                    1.5 + key % 7,
                    f"2025-09-{1 + key % 28:02d} 08:00:00",
                )
                for key in range(1, KEYS + 1)
            ],
        )
    db.close()


def _vaccinations(folder: Path, day: int, first: int, count: int) -> int:
    """One day's file of the veterinary station: ``count`` vaccinations; returns the animals."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["ma_phieu,ngay_tiem,ma_xa,loai_vat_nuoi,so_con,chu_ho,so_dien_thoai"]
    animals = 0
    for number in range(first, first + count):
        heads = 10 + number % 40
        animals += heads
        lines.append(
            f"TP-{number:05d},2025-09-{day:02d},{COMMUNES[number % len(COMMUNES)]},"
            f"{'heo' if number % 2 else 'bò'},{heads},Trần Thị {chr(65 + number % 26)},"
            f"09{number:08d}"
        )
    path = folder / f"tiem-phong-2025-09-{day:02d}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return animals


class CooperativeApi:
    """The cooperatives' register: GET /api/v1/hop-tac-xa?page=&page_size=&updated_since=."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = [
            {
                "ma_htx": f"HTX-{number:03d}",
                "ten_htx": f"Hợp tác xã Nông nghiệp số {number}",
                "ma_xa": COMMUNES[number % len(COMMUNES)],
                "so_thanh_vien": 20 + number,
                "dien_thoai": f"0277{number:06d}",
                "ngay_cap_nhat": f"2025-08-{1 + number % 28:02d}T07:30:00",
            }
            for number in range(1, COOPERATIVES + 1)
        ]
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if parts.path != "/api/v1/hop-tac-xa":
                    self.send_error(404)
                    return
                since = query.get("updated_since", "")
                changed = [r for r in api.records if r["ngay_cap_nhat"] > since]
                page, size = int(query.get("page", "1")), int(query.get("page_size", "20"))
                body = {"data": changed[(page - 1) * size : page * size], "total": len(changed)}
                encoded = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/v1/hop-tac-xa"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def members(self) -> int:
        return sum(int(r["so_thanh_vien"]) for r in self.records)


@pytest.fixture
def cooperative_api() -> Iterator[CooperativeApi]:
    api = CooperativeApi()
    yield api
    api.server.shutdown()


class Project:
    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        self.seconds: dict[str, float] = {}

    def ioc(self, *args: str) -> str:
        started = time.perf_counter()
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
        step = " ".join(a for a in args[:2] if not a.startswith("-"))
        self.seconds[step] = self.seconds.get(step, 0) + time.perf_counter() - started
        said = completed.stdout + completed.stderr  # the console reports on stderr
        assert completed.returncode == 0, f"ioc {' '.join(args)}:\n{said[-4000:]}"
        return said

    def published(self, name: str, table: str, measure: str) -> tuple[int, float]:
        """Rows of a published source mart and the total of one of its columns."""
        serving = self.home / "warehouse" / "serving.duckdb"
        with duckdb.connect(str(serving), read_only=True) as con:
            found = con.execute(
                f"select count(*), sum({measure}) from marts.src_{name}__{table}"
            ).fetchone()
        assert found is not None
        return int(found[0]), float(found[1])

    def column(self, name: str, table: str, column: str) -> set[str]:
        serving = self.home / "warehouse" / "serving.duckdb"
        with duckdb.connect(str(serving), read_only=True) as con:
            rows = con.execute(f"select {column} from marts.src_{name}__{table}").fetchall()
        return {str(row[0]) for row in rows}

    def freshness(self) -> dict[str, tuple[int, int]]:
        """The Data health dashboard's freshness table: runs and rows landed per source table."""
        serving = self.home / "warehouse" / "serving.duckdb"
        with duckdb.connect(str(serving), read_only=True) as con:
            rows = con.execute(
                "select source_name, runs, rows_landed_total from meta.meta_source_freshness"
            ).fetchall()
        return {str(name): (int(runs), int(landed)) for name, runs, landed in rows}

    def last_landed(self, name: str) -> dict[str, int]:
        """Rows the source's latest committed extract run landed, per table."""
        manifests = sorted((self.home / "lake" / "_manifests" / name).glob("*.json"))
        assert manifests, "no committed extract run"
        landed: dict[str, int] = json.loads(manifests[-1].read_text())["rows_landed"]
        return {table: rows for table, rows in landed.items() if rows}

    def written(self, name: str) -> dict[str, int]:
        """Lines of each file the walk-through wrote for a source (generated included)."""
        found = [
            *self.root.glob(f"connectors/sources/*/{name}.yaml"),
            *self.root.glob(f"dbt_project/models/staging/*/stg_{name}__*.sql"),
            *self.root.glob(f"tests/connectors/test_source_{name}.py"),
        ]
        return {
            path.relative_to(self.root).as_posix(): len(path.read_text().splitlines())
            for path in found
        }


def test_the_walk_throughs_publish_the_latest_version_of_each_record(
    tmp_path: Path, cooperative_api: CooperativeApi
) -> None:
    project = Project(_copy_project(tmp_path / "project"), tmp_path / "home")
    database = tmp_path / "dk01.sqlite"
    _registrations(database)
    inbox = tmp_path / "tram-thu-y"
    animals = _vaccinations(inbox, day=1, first=1, count=30)

    # 1. Scaffold, from the system itself.
    printed = project.ioc(
        "sources", "new", SQL_NAME, "--sector", "agriculture", "--from-db", f"sqlite:///{database}"
    )
    assert "guessed pii: ho_ten" in printed and "guessed pii: so_cccd" in printed
    printed = project.ioc(
        "sources", "new", CSV_NAME, "--sector", "agriculture",
        "--from-file", str(inbox / "tiem-phong-2025-09-01.csv"),
    )  # fmt: skip
    assert "guessed pii: chu_ho" in printed and "guessed pii: so_dien_thoai" in printed
    printed = project.ioc(
        "sources", "new", API_NAME, "--sector", "agriculture",
        "--from-url", f"{cooperative_api.url}?page=1&page_size={PAGE}&updated_since=2000-01-01",
    )  # fmt: skip
    assert "guessed pii: dien_thoai" in printed and "updated_since" in printed
    # 3.–7. Validate, generate, extract, build.
    project.ioc("sources", "validate")
    project.ioc("dbt", "sources")
    for name in (SQL_NAME, CSV_NAME, API_NAME):
        project.ioc("extract", name)
    project.ioc("build")

    with sqlite3.connect(database) as db:
        total = db.execute("select sum(dien_tich_ha) from dang_ky_trong_trot").fetchone()[0]
    db.close()
    assert project.published(SQL_NAME, SQL_TABLE, "dien_tich_ha") == (KEYS, pytest.approx(total))
    assert project.last_landed(SQL_NAME) == {SQL_TABLE: KEYS}
    assert project.published(CSV_NAME, CSV_TABLE, "so_con") == (30, animals)
    assert project.published(API_NAME, API_TABLE, "so_thanh_vien") == (
        COOPERATIVES,
        cooperative_api.members(),
    )
    # The Data health dashboard's freshness table lists each new source from its first run.
    freshness = project.freshness()
    assert freshness[SQL_NAME] == (1, KEYS)
    assert freshness[CSV_NAME] == (1, 30)
    assert freshness[API_NAME] == (1, COOPERATIVES)
    # Personal data was pseudonymised at landing, as the scaffold declared from what it saw.
    for name, table, column, clear in (
        (SQL_NAME, SQL_TABLE, "ho_ten", "Nguyễn"),
        (CSV_NAME, CSV_TABLE, "chu_ho", "Trần"),
        (CSV_NAME, CSV_TABLE, "so_dien_thoai", "09000"),
        (API_NAME, API_TABLE, "dien_thoai", "0277"),
    ):
        values = project.column(name, table, column)
        assert not any(v.startswith(clear) for v in values), (name, column, sorted(values)[:3])

    # Nothing changed at the sources: nothing lands.
    for name in (SQL_NAME, CSV_NAME, API_NAME):
        project.ioc("extract", name)
        assert project.last_landed(name) == {}, name

    # Changes: three registrations corrected, a new day's file, two cooperatives updated and
    # one registered. Exactly those land, and the published totals move with them.
    with sqlite3.connect(database) as db:
        db.execute(
            "update dang_ky_trong_trot set dien_tich_ha = dien_tich_ha + 5, "
            "updated_at = '2025-10-02 09:00:00' where ma_dang_ky in (7, 8, 9)"
        )
    db.close()
    more_animals = _vaccinations(inbox, day=2, first=31, count=12)
    # With it, a file re-sending one of its lines, identical: both land in one run.
    resent = (inbox / "tiem-phong-2025-09-02.csv").read_text(encoding="utf-8").splitlines()
    (inbox / "tiem-phong-2025-09-02-gui-lai.csv").write_text(
        f"{resent[0]}\n{resent[1]}\n", encoding="utf-8"
    )
    for record in cooperative_api.records[:2]:
        record.update(
            so_thanh_vien=record["so_thanh_vien"] + 10, ngay_cap_nhat="2025-10-01T08:00:00"
        )
    cooperative_api.records.append(
        {**cooperative_api.records[-1], "ma_htx": "HTX-999", "ngay_cap_nhat": "2025-10-01T09:00:00"}
    )
    for name in (SQL_NAME, CSV_NAME, API_NAME):
        project.ioc("extract", name)
    assert project.last_landed(SQL_NAME) == {SQL_TABLE: UPDATED}
    assert project.last_landed(CSV_NAME) == {CSV_TABLE: 13}  # the re-sent line too
    assert project.last_landed(API_NAME) == {API_TABLE: 3}
    project.ioc("build")
    assert project.published(SQL_NAME, SQL_TABLE, "dien_tich_ha") == (
        KEYS,
        pytest.approx(total + 5 * UPDATED),
    )
    # ... and is published once.
    assert project.published(CSV_NAME, CSV_TABLE, "so_con") == (42, animals + more_animals)
    assert project.published(API_NAME, API_TABLE, "so_thanh_vien") == (
        COOPERATIVES + 1,
        cooperative_api.members(),
    )

    # What docs/adding-a-source.md reports under "Measured".
    for name in (SQL_NAME, CSV_NAME, API_NAME):
        print(name, project.written(name))
    print({step: round(seconds, 1) for step, seconds in project.seconds.items()})
