"""DuckDB's memory budget: one setting, every connection iochub opens, and dbt's.

``IOC_DUCKDB_MEMORY`` / ``IOC_DUCKDB_THREADS`` reach every DuckDB connection of the runtime
through ``iochub.duckdb_connect`` (none may call ``duckdb.connect`` itself: checked over the
source) and dbt's through ``profiles.yml`` (checked by asking dbt's own connection).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from iochub.duckdb_connect import connect_duckdb
from iochub.settings import REPO_ROOT, Settings, duckdb_bytes, get_settings

RUNTIME = ("connectors", "iochub", "expectations", "geo", "dags", "simulator")


def _limit(config: dict[str, object]) -> str:
    with duckdb.connect(config=config) as con:  # type: ignore[arg-type]
        row = con.execute("select current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def budget(home: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("IOC_DUCKDB_MEMORY", "1GB")
    monkeypatch.setenv("IOC_DUCKDB_THREADS", "1")
    return get_settings()


def test_iochub_connections_get_the_budget(budget: Settings) -> None:
    with connect_duckdb() as con:
        row = con.execute(
            "select current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('temp_directory')"
        ).fetchone()
    assert row == (_limit({"memory_limit": "1GB"}), 1, str(budget.duckdb_temp_dir))
    assert budget.duckdb_temp_dir.is_dir()
    assert _limit({}) != row[0]  # DuckDB's own default (80 % of the machine) is not used


def test_a_file_opened_otherwise_in_the_process_is_still_opened(
    budget: Settings, tmp_path: Path
) -> None:
    """A test (or a library) holding the same file open without the budget: DuckDB refuses a
    second connection with another ``config=``, so the budget is SET, not configured."""
    path = tmp_path / "shared.duckdb"
    duckdb.connect(str(path)).close()
    with duckdb.connect(str(path), read_only=True) as plain:
        with connect_duckdb(path, read_only=True) as budgeted:
            assert budgeted.execute("select 42").fetchone() == (42,)
        assert plain.execute("select current_setting('memory_limit')").fetchone() == (
            _limit({"memory_limit": "1GB"}),
        )  # one database instance, one budget
    with connect_duckdb(path, read_only=True), duckdb.connect(str(path), read_only=True) as later:
        assert later.execute("select 42").fetchone() == (42,)


def test_a_memory_size_that_is_not_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_DUCKDB_MEMORY", "2 gigs")
    with pytest.raises(ValueError, match=r"e\.g\. 2GB, 1500MB or 4GiB"):
        get_settings()
    assert duckdb_bytes("1500MB") == 1_500_000_000 and duckdb_bytes("4GiB") == 4 * 2**30


def test_no_runtime_module_connects_to_duckdb_on_its_own() -> None:
    direct = []
    for folder in RUNTIME:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if path == REPO_ROOT / "iochub" / "duckdb_connect.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"connect", "sql", "query", "execute"}
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "duckdb"
                ):
                    direct.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert direct == [], "use iochub.duckdb_connect.connect_duckdb (the memory budget)"


def test_dbt_connects_with_the_same_budget(budget: Settings, tmp_path: Path) -> None:
    budget.warehouse_dir.mkdir(parents=True)
    shown = subprocess.run(
        [
            str(budget.dbt_executable),
            "show",
            "--inline",
            "select current_setting('memory_limit') as m, current_setting('threads') as t",
            "--output",
            "json",
            "--log-format",
            "json",
            "--project-dir",
            str(budget.dbt_project_dir),
            "--profiles-dir",
            str(budget.dbt_project_dir),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        env={**os.environ, **budget.tool_environment()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert shown.returncode == 0, shown.stdout[-3000:]
    previews = [
        json.loads(json.loads(line)["data"]["preview"])
        for line in shown.stdout.splitlines()
        if line.startswith("{") and "preview" in json.loads(line).get("data", {})
    ]
    assert previews == [[{"m": _limit({"memory_limit": "1GB"}), "t": 1}]]


def test_dbt_goes_on_after_a_model_spilled_to_disk(
    home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the budget a big model spills; the models after it must still connect (the
    scale-1 build failed there when every cursor set the spill folder again)."""
    monkeypatch.setenv("IOC_DUCKDB_MEMORY", "64MB")
    monkeypatch.setenv("IOC_DUCKDB_THREADS", "1")
    settings = get_settings()
    settings.warehouse_dir.mkdir(parents=True)
    settings.duckdb_config()  # the spill folder, as every build's first connection makes it
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        'name: spill\nversion: "1.0.0"\nconfig-version: 2\nprofile: iochub\n'
        "models:\n  spill:\n    +materialized: table\n",
        encoding="utf-8",
    )
    # Sorting 8 million random doubles needs far more than 64 MB: DuckDB spills.
    (project / "models" / "big.sql").write_text(
        "select range as i, random() as r from range(8000000) order by r", encoding="utf-8"
    )
    (project / "models" / "after.sql").write_text(
        "select count(*) as n from {{ ref('big') }}", encoding="utf-8"
    )
    (project / "models" / "last.sql").write_text(
        "select n from {{ ref('after') }}", encoding="utf-8"
    )
    done = subprocess.run(
        [
            str(settings.dbt_executable),
            "run",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(settings.dbt_project_dir),
        ],
        env={**os.environ, **settings.tool_environment()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    # With the spill folder in the profile's per-cursor `settings`, `after` and `last` failed
    # here ("Cannot switch temporary directory after the current one has been used").
    assert done.returncode == 0, done.stdout[-3000:]
    with connect_duckdb(settings.build_db, read_only=True) as con:
        assert con.execute("select n from main.last").fetchone() == (8_000_000,)


def test_a_second_connection_after_a_spill_keeps_the_spill_folder(
    home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_DUCKDB_MEMORY", "64MB")
    monkeypatch.setenv("IOC_DUCKDB_THREADS", "1")
    path = tmp_path / "spilled.duckdb"
    with connect_duckdb(path) as first:
        first.execute(
            "create table big as select range as i, random() as r from range(8000000) order by r"
        )
        with connect_duckdb(path) as second:  # the same database instance, which has spilled
            assert second.execute("select count(*) from big").fetchone() == (8_000_000,)
