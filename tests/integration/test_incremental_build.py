"""Incremental builds equal full rebuilds, on DuckDB and on PostgreSQL.

The XML 130 chain (the latest episode per claim and its drug, service and paraclinical lines,
then the facts) is built incrementally: each build merges only the extract runs landed since
the one before (dbt_project/macros/lake_increment.sql). Hand-written claim files of one
facility land in four extract runs, with a build after each, and exercise every way a later
run can change what an earlier one left:

1. File A (NGAYLAP 5 June): LK1 with two drug lines, LK2 with one, LK3 with none; file B
   (6 June, the same run) re-sends LK2 corrected, with two lines: B's copy wins.
2. File C (10 June): LK1 corrected (total 99,000, one line left) and LK2 corrected without any
   drug line: LK2 loses its lines.
3. File D (4 June, older than A, sent late): LK3 again with three lines and another total, which
   loses to A's copy; LK5, new, with one line. Before this build the first run's files are moved
   out of the lake: an incremental build must not read them (a full one would lose LK2-LK4).
4. Nothing new lands: the build changes nothing.

After each build the tables must hold the values computed by hand below; after the last, a
``--full-refresh`` build of the same lake (the first run's files back) must give the same
tables row for row.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from connectors.extract import run_extract
from iochub.settings import Settings, get_settings
from iochub.warehouse import dbt_args, prepare_build
from tests.kpi_cases.health_source import file_text, load_health_cases
from tests.pg_scratch import PG_SERVER
from tests.pg_scratch import scratch_database as scratch

pytestmark = pytest.mark.integration

FACILITY = "82010"
SELECTION = (
    "--select",
    "+fct_health_episode",
    "+fct_health_drug_line",
    "+fct_health_service_line",
    "+int_health_paraclinical_results_latest",
    # Only the data tests whose every parent is selected: not those reaching other sources.
    "--indirect-selection",
    "cautious",
)
TABLES = (
    "intermediate.int_health_episodes_latest",
    "intermediate.int_health_drug_lines_latest",
    "intermediate.int_health_service_lines_latest",
    "intermediate.int_health_paraclinical_results_latest",
    "marts.fct_health_episode",
    "marts.fct_health_drug_line",
    "marts.fct_health_service_line",
)


def _line(drug: str, amount: int) -> dict[str, Any]:
    return {
        "MA_THUOC": drug,
        "MA_NHOM": "4",
        "TEN_THUOC": "Paracetamol 500mg",
        "DON_VI_TINH": "Viên",
        "SO_LUONG": 10,
        "DON_GIA": amount // 10,
        "THANH_TIEN_BV": amount,
        "T_BHTT": amount,
        "NGAY_YL": "202506030900",
    }


def _episode(lk: str, total: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "MA_LK": lk,
        "NGAY_VAO": "202506030800",
        "NGAY_RA": "202506031000",
        "MAXA_CU_TRU": "28249",
        "T_TONGCHI_BV": total,
        "drug_lines": lines,
    }


def _file(name: str, created: str, episodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "facility": FACILITY, "created": created, "episodes": episodes}


# The files dropped before each extract run.
LANDINGS: list[list[dict[str, Any]]] = [
    [
        _file(
            "A",
            "20250605",
            [
                _episode("LK1", 50_000, [_line("40.1", 10_000), _line("40.2", 20_000)]),
                _episode("LK2", 40_000, [_line("40.3", 5_000)]),
                _episode("LK3", 30_000, []),
            ],
        ),
        _file(
            "B",
            "20250606",
            [
                _episode("LK2", 45_000, [_line("40.3", 5_000), _line("40.4", 7_000)]),
                _episode("LK4", 20_000, [_line("40.5", 3_000)]),
            ],
        ),
    ],
    [
        _file(
            "C",
            "20250610",
            [
                _episode("LK1", 99_000, [_line("40.1", 11_000)]),
                _episode("LK2", 46_000, []),
            ],
        )
    ],
    [
        _file(
            "D",
            "20250604",
            [
                _episode("LK3", 31_000, [_line("40.6", 1_000)] * 3),
                _episode("LK5", 60_000, [_line("40.7", 9_000)]),
            ],
        )
    ],
    [],
]

# By hand, after each build: per episode, (T_TONGCHI_BV of the winning copy, its drug lines,
# the sum of their THANH_TIEN_BV); each build changes only the episodes written.
AFTER_FIRST: dict[str, tuple[float, int, float]] = {
    "LK1": (50_000, 2, 30_000),
    "LK2": (45_000, 2, 12_000),  # B's copy (6 June) over A's
    "LK3": (30_000, 0, 0),
    "LK4": (20_000, 1, 3_000),
}
AFTER_SECOND = {**AFTER_FIRST, "LK1": (99_000, 1, 11_000), "LK2": (46_000, 0, 0)}
AFTER_THIRD = {**AFTER_SECOND, "LK5": (60_000, 1, 9_000)}  # D's LK3 (4 June) loses to A's
EXPECTED = [AFTER_FIRST, AFTER_SECOND, AFTER_THIRD, AFTER_THIRD]  # the fourth: nothing new

EPISODE_SQL = """
select episode_id, total_cost_vnd, drug_lines, drug_cost_vnd
from marts.fct_health_episode order by episode_id
"""


class Engine:
    """One adapter's build warehouse: dbt builds it, the test reads it."""

    def __init__(self, name: str, settings: Settings, database: str | None) -> None:
        self.name = name
        self.settings = settings
        self.database = database
        self.target = settings.home / f"dbt_{name}"

    def build(self, *extra: str) -> None:
        if self.database:
            from iochub.lake_meta import load_lake_into_postgres

            load_lake_into_postgres(self.settings, f"{PG_SERVER}/{self.database}")
        target_args = ("--target", "postgres") if self.database else ()
        env = {"IOC_DBT_PG_DBNAME": self.database} if self.database else {}
        completed = subprocess.run(
            [
                str(self.settings.dbt_executable),
                *dbt_args(self.settings, "build", *target_args, *SELECTION, *extra),
                "--target-path",
                str(self.target),
            ],
            env={
                **os.environ,
                **self.settings.tool_environment(),
                "DBT_LOG_PATH": str(self.target / "logs"),
                **env,
            },
            check=False,
            capture_output=True,
            text=True,
        )
        results = json.loads((self.target / "run_results.json").read_text())["results"]
        failed = [
            (r["unique_id"], r["message"])
            for r in results
            # warn: the facilities registry is not landed here, so every episode's facility
            # is unknown to dim_facility (a warning test).
            if r["status"] not in ("success", "pass", "warn")
        ]
        assert completed.returncode == 0 and not failed, (failed, completed.stdout[-3000:])

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.database:
            with psycopg.connect(f"{PG_SERVER}/{self.database}") as pg:
                return [tuple(row) for row in pg.execute(sql).fetchall()]
        with duckdb.connect(str(self.settings.build_db), read_only=True) as con:
            return con.execute(sql).fetchall()

    def tables(self) -> dict[str, list[str]]:
        """Every row of the incremental chain's tables, as sorted text (numbers to 9 digits)."""

        def cell(value: Any) -> str:
            if isinstance(value, float):
                return f"{value:.9g}"
            return repr(value if not hasattr(value, "as_tuple") else float(value))

        return {
            table: sorted("|".join(map(cell, row)) for row in self.query(f"select * from {table}"))
            for table in TABLES
        }


@pytest.fixture(params=["duckdb", pytest.param("postgres")])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IOC_HEALTH_XML130_INBOX", str(tmp_path / "inbox"))
    settings = get_settings()
    prepare_build(settings)  # the typed placeholders of every other source
    if request.param == "duckdb":
        yield Engine("duckdb", settings, None)
    else:
        with scratch(f"iochub_incremental_{os.getpid()}") as database:
            yield Engine("postgres", settings, database)


def _episodes(engine: Engine) -> dict[str, tuple[float, int, float]]:
    return {
        lk: (float(total), int(lines), float(cost))
        for lk, total, lines, cost in engine.query(EPISODE_SQL)
    }


def test_incremental_builds_equal_a_full_rebuild(engine: Engine, tmp_path: Path) -> None:
    settings = engine.settings
    cases = load_health_cases()
    inbox = tmp_path / "inbox"
    first_run_files: list[Path] = []
    for number, landing in enumerate(LANDINGS):
        inbox.mkdir(exist_ok=True)
        for file in landing:
            (inbox / f"{file['name']}.xml").write_text(file_text(cases, file), encoding="utf-8")
        manifest = run_extract("health_xml130", settings)
        assert manifest.items_in == len(landing)
        if number == 0:
            first_run_files = [settings.lake_dir / table.path for table in manifest.tables]
        if number == 2:
            # The first run's parts move out of the lake: the incremental build must not need
            # them (every winner they held is already merged).
            for part in first_run_files:
                part.rename(tmp_path / f"{part.parent.parent.name}.{part.name}")
        engine.build()
        assert _episodes(engine) == EXPECTED[number], f"after build {number + 1}"
        if number == 2:
            for part in first_run_files:
                (tmp_path / f"{part.parent.parent.name}.{part.name}").rename(part)

    merged = engine.query(
        "select model_name, count(*), count(distinct run_id) "
        "from intermediate.lake_merged_runs group by model_name order by model_name"
    )
    assert merged == [
        (model, 4, 4)
        for model in sorted(t.split(".")[1] for t in TABLES if t.startswith("intermediate."))
    ]

    incremental = engine.tables()
    engine.build("--full-refresh")
    assert _episodes(engine) == EXPECTED[-1]
    full = engine.tables()
    for table in TABLES:
        assert incremental[table] == full[table], table
