"""The ``column_checks`` generic test (dbt_project/tests/generic/column_checks.sql) finds every
broken rule, and only those, on DuckDB and on PostgreSQL.

A small dbt project of the test's own holds the real test and macro files and two seeds
written by hand: ``parent`` (the codes A and B) and ``child`` (five rows, each breaking at most
one rule or two).
Counted by hand from the rows below:

- not_null ``code``: row 4 → 1; not_null ``note``: row 2 (an empty CSV cell is null) → 1;
  not_null ``id``: none;
- accepted_values ``status`` in (open, closed, it's): row 4's ``bad'q`` → 1;
  ``level`` in (2, 3, 4): row 5's 9 → 1; ``flag`` in (true, false): none (a null is no value);
- relationships ``code`` → ``parent.code``: row 3's Z → 1 (row 4's null is not an orphan).

So five rows come back, and the same rules on ``parent`` pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from iochub.settings import REPO_ROOT, Settings
from tests.pg_scratch import PG_SERVER, scratch_database

pytestmark = pytest.mark.integration

CHILD = """id,code,status,level,flag,note
1,A,open,2,true,x
2,B,closed,3,false,
3,Z,open,4,true,y
4,,bad'q,2,,z
5,A,open,9,true,w
"""
PARENT = "code\nA\nB\n"
SEEDS_YML = """version: 2
seeds:
  - name: child
    config:
      column_types: {id: integer, code: varchar, status: varchar, level: integer,
                     flag: boolean, note: varchar}
    data_tests:
      - column_checks:
          arguments:
            not_null: [id, code, note]
            accepted_values:
              status: ["open", "closed", "it's"]
              level: [2, 3, 4]
              flag: [true, false]
            relationships:
              code: {to: ref('parent'), field: code}
  - name: parent
    config:
      column_types: {code: varchar}
    data_tests:
      - column_checks:
          arguments:
            not_null: [code]
            accepted_values:
              code: ["A", "B"]
"""
PROFILES = """checks:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: "{{ env_var('CHECKS_DUCKDB') }}"
      threads: 1
    postgres:
      type: postgres
      host: 127.0.0.1
      port: 5432
      user: postgres
      password: ""
      dbname: "{{ env_var('CHECKS_PG_DBNAME') }}"
      schema: public
      threads: 1
"""
PROJECT = """name: checks
version: "1.0"
config-version: 2
profile: checks
seed-paths: ["seeds"]
macro-paths: ["macros"]
test-paths: ["tests"]
data_tests:
  +store_failures: true
"""
EXPECTED = {
    ("not_null", "code", 1, None),
    ("not_null", "note", 1, None),
    ("accepted_values", "status", 1, "bad'q"),
    ("accepted_values", "level", 1, "9"),
    ("relationships", "code", 1, "Z"),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("column_checks")
    (root / "seeds").mkdir()
    (root / "seeds" / "child.csv").write_text(CHILD)
    (root / "seeds" / "parent.csv").write_text(PARENT)
    (root / "seeds" / "_seeds.yml").write_text(SEEDS_YML)
    (root / "tests" / "generic").mkdir(parents=True)
    (root / "macros").mkdir()
    dbt_project = REPO_ROOT / "dbt_project"
    shutil.copy(dbt_project / "tests" / "generic" / "column_checks.sql", root / "tests" / "generic")
    shutil.copy(dbt_project / "macros" / "column_check_rules.sql", root / "macros")
    (root / "dbt_project.yml").write_text(PROJECT)
    (root / "profiles.yml").write_text(PROFILES)
    return root


def _build(project: Path, target: str, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """``dbt build`` of the small project; dbt's result per node, by node name."""
    completed = subprocess.run(
        [
            str(Settings.from_env().dbt_executable),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target",
            target,
            "--target-path",
            str(project / f"target_{target}"),
        ],
        env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
        capture_output=True,
        text=True,
        check=False,
    )
    results_file = project / f"target_{target}" / "run_results.json"
    assert results_file.exists(), completed.stdout + completed.stderr
    results = json.loads(results_file.read_text())["results"]
    return {r["unique_id"].split(".")[2]: r for r in results}


def _failures(results: dict[str, dict[str, Any]], model: str) -> dict[str, Any]:
    [name] = [n for n in results if n.startswith(f"column_checks_{model}_")]
    return results[name]


@pytest.fixture(scope="module")
def on_duckdb(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    database = tmp_path_factory.mktemp("checks_duckdb") / "checks.duckdb"
    results = _build(project, "duckdb", {"CHECKS_DUCKDB": str(database)})
    with duckdb.connect(str(database), read_only=True) as con:

        def rows(relation: str) -> set[tuple[Any, ...]]:
            return set(con.execute(f"select * from {relation}").fetchall())

        yield results, rows


@pytest.fixture(scope="module")
def on_postgres(project: Path) -> Iterator[Any]:
    with scratch_database(f"iochub_column_checks_{os.getpid()}") as name:
        results = _build(project, "postgres", {"CHECKS_PG_DBNAME": name})
        with psycopg.connect(f"{PG_SERVER}/{name}") as pg:

            def rows(relation: str) -> set[tuple[Any, ...]]:
                return set(pg.execute(f"select * from {relation}").fetchall())

            yield results, rows


@pytest.mark.parametrize("adapter", ["on_duckdb", "on_postgres"])
def test_every_broken_rule_and_only_those(adapter: str, request: pytest.FixtureRequest) -> None:
    results, rows = request.getfixturevalue(adapter)
    child = _failures(results, "child")
    assert child["status"] == "fail"
    assert child["failures"] == len(EXPECTED)
    # dbt stored the failing rows (store_failures) where run_results says.
    assert rows(child["relation_name"]) == EXPECTED


@pytest.mark.parametrize("adapter", ["on_duckdb", "on_postgres"])
def test_a_table_keeping_its_rules_passes(adapter: str, request: pytest.FixtureRequest) -> None:
    results, _ = request.getfixturevalue(adapter)
    parent = _failures(results, "parent")
    assert parent["status"] == "pass"
    assert parent["failures"] == 0
