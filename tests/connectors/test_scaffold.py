"""``ioc sources new`` and ``ioc sources check`` end to end.

A SQLite database made here is introspected by ``ioc sources new --from-db`` into a throwaway
copy of the project's layout: the declaration must be valid and land as written, and the test
the command wrote must pass when pytest runs it. A files/csv template (``--kind``) is
scaffolded into a throwaway registry (IOC_SOURCES_DIR), validated, checked, fed CSV files and
extracted by the real command: the rows landed and quarantined are counted against the files.
``check`` then runs against the demo province's real PostgreSQL, HTTP API and Mosquitto, with
row counts compared to what the database holds, and must fail (exit 1) when a source cannot be
reached.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest
from typer.testing import CliRunner

from connectors.check import check_source
from connectors.extract import run_extract
from connectors.registry import PiiTreatment, load_registry, load_source
from connectors.scaffold import ScaffoldError, scaffold
from iochub.cli import app
from iochub.settings import REPO_ROOT, Settings, get_settings

NAME = "statistics_scaffolded"


@pytest.fixture
def own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IOC_SOURCES_DIR", str(tmp_path / "sources"))
    monkeypatch.delenv(f"IOC_{NAME.upper()}_DIR", raising=False)
    return get_settings()


def test_introspected_database_source_lands_and_its_test_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "agri_scaffolded_db"
    project = tmp_path / "project"  # a copy of the project's layout: registry, dbt, tests
    sources_dir = project / "connectors" / "sources"
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IOC_SOURCES_DIR", str(sources_dir))
    monkeypatch.delenv(f"IOC_{name.upper()}_URL", raising=False)
    database = tmp_path / "planting.sqlite"
    with sqlite3.connect(database) as lite:
        lite.execute(
            "CREATE TABLE dang_ky_trong (ma_dang_ky INTEGER PRIMARY KEY, ho_ten TEXT NOT NULL, "
            "so_cccd TEXT NOT NULL, ma_xa TEXT NOT NULL, cay_trong TEXT, dien_tich_ha REAL, "
            "updated_at TIMESTAMP NOT NULL)"
        )
        lite.executemany(
            "INSERT INTO dang_ky_trong VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i + 1,
                    ("Nguyễn Văn An", "Trần Thị Bích", "Lê Văn Cường")[i % 3],
                    f"0870{i:08d}",
                    ("30280", "29959", "30001")[i % 3],
                    "Lúa",
                    1.5 + i,
                    f"2025-03-{i + 1:02d} 10:00:00",
                )
                for i in range(20)
            ],
        )

    result = CliRunner().invoke(
        app, ["sources", "new", name, "--sector", "agriculture", "--from-db", str(database)]
    )
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())  # rich wraps long lines
    for guess in (
        "key: ma_dang_ky (from the database)",
        "guessed cursor updated_at",
        "guessed pii: so_cccd: hmac",
        "guessed pii: ho_ten: hmac",
        "guessed admin code: ma_xa",
    ):
        assert guess in printed, guess

    source = load_source(sources_dir / "agriculture" / f"{name}.yaml")
    table = source.table("dang_ky_trong")
    assert source.connection.default == f"sqlite://{database}"
    assert table.primary_key == ["ma_dang_ky"]
    assert table.incremental is not None and table.incremental.cursor == "updated_at"
    assert table.incremental.lag_hours == 0
    assert table.pii == {"ho_ten": PiiTreatment.HMAC, "so_cccd": PiiTreatment.HMAC}
    assert table.columns["ma_xa"].admin_code and table.columns["ma_xa"].required
    assert not table.columns["cay_trong"].required
    assert table.columns["dien_tich_ha"].type == "decimal"
    assert CliRunner().invoke(app, ["sources", "validate"]).exit_code == 0
    staging = project / "dbt_project" / "models" / "staging" / "agriculture"
    model = (staging / f"stg_{name}__dang_ky_trong.sql").read_text()
    assert "double precision" in model and f"source_latest('{name}', 'dang_ky_trong')" in model

    # The declaration lands as written: its default connection is the database itself.
    manifest = run_extract(name, get_settings())
    manifest.check_invariant()
    assert manifest.rows_in == {"dang_ky_trong": 20}
    assert manifest.rows_landed == {"dang_ky_trong": 20}
    # The staging model's SQL runs on what landed (its source read the way dbt's sources read
    # it; one landing run, so the latest version of each key is every row).
    lake = get_settings().raw_dir / name / "dang_ky_trong" / "*" / "*.parquet"
    relation = f"read_parquet('{lake}', hive_partitioning = true, union_by_name = true)"
    sql = model.replace(
        f"{{{{ source_latest('{name}', 'dang_ky_trong') }}}}", f"select * from {relation}"
    )
    staged = duckdb.sql(sql)
    assert staged.columns[:3] == ["ma_dang_ky", "ho_ten_key", "so_cccd_key"]
    assert len(staged.fetchall()) == 20

    # The test the command wrote lands its own fixture, not the demo province, and passes.
    written = project / "tests" / "connectors" / f"test_source_{name}.py"
    text = written.read_text()
    assert "write_sqlite_fixture" in text and "lake_home" not in text
    pytest_args = ["-q", "-p", "no:cacheprovider", str(written), "--rootdir", str(project)]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=REPO_ROOT,
        env={**os.environ, "IOC_SOURCES_DIR": str(sources_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout

    # Both files pass the project's own linters as written.
    tools = Path(sys.executable).parent
    for ruff in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        lint = subprocess.run(
            [str(tools / "ruff"), *ruff, str(written)], capture_output=True, text=True
        )
        assert lint.returncode == 0, lint.stdout
    model_file = staging / f"stg_{name}__dang_ky_trong.sql"
    sqlfluff = [str(tools / "sqlfluff"), "lint", "--config", str(REPO_ROOT / "pyproject.toml")]
    lint = subprocess.run(
        [*sqlfluff, str(model_file)],
        cwd=REPO_ROOT / "dbt_project",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert lint.returncode == 0, lint.stdout


def test_scaffolded_csv_source_extracts_end_to_end(own_registry: Settings, tmp_path: Path) -> None:
    settings = own_registry
    made = scaffold(
        NAME,
        "files",
        "statistics",
        sources_dir=settings.sources_dir,
        dbt_project_dir=tmp_path / "dbt",
        tests_dir=tmp_path / "tests",
    )
    assert made.registry == settings.sources_dir / "statistics" / f"{NAME}.yaml"
    assert f"source_latest('{NAME}', 'records')" in made.staging.read_text()
    compile(made.test.read_text(), str(made.test), "exec")  # the test stub is valid Python
    runner = CliRunner()
    assert runner.invoke(app, ["sources", "validate"]).exit_code == 0

    # The scaffolded connection points into the demo province: no folder yet, check fails.
    result = runner.invoke(app, ["sources", "check", NAME])
    assert result.exit_code == 1 and "folder missing" in result.output

    inbox = settings.sim_dir / "statistics" / NAME
    (inbox / "2025").mkdir(parents=True)
    (inbox / "2025" / "a.csv").write_text("id,value\n1,x\n2,y\n3,z\n", encoding="utf-8")
    (inbox / "b.csv").write_text("id,value\n4,u\n,missing id\n5,w\n", encoding="utf-8")
    (inbox / "notes.txt").write_text("not a csv", encoding="utf-8")
    lines = check_source(load_source(made.registry), settings)
    assert [line.ok for line in lines] == [True, True, True]
    assert lines[1].detail == "2 file(s)"

    result = runner.invoke(app, ["extract", NAME])
    assert result.exit_code == 0, result.output
    manifests = sorted((settings.manifest_dir / NAME).glob("*.json"))
    assert len(manifests) == 1
    files = sorted((settings.raw_dir / NAME / "records").rglob("*.parquet"))
    ids = duckdb.sql(
        f"SELECT id FROM read_parquet({[str(f) for f in files]}) ORDER BY id"
    ).fetchall()
    assert [i for (i,) in ids] == ["1", "2", "3", "4", "5"]
    quarantine = list((settings.quarantine_dir / NAME).rglob("*.parquet"))
    reasons = duckdb.sql(f"SELECT reason FROM read_parquet('{quarantine[0]}')").fetchall()
    assert reasons == [("missing_required",)]  # 6 rows in = 5 landed + 1 quarantined


def test_new_never_overwrites(own_registry: Settings, tmp_path: Path) -> None:
    kwargs = {
        "sources_dir": own_registry.sources_dir,
        "dbt_project_dir": tmp_path / "dbt",
        "tests_dir": tmp_path / "tests",
    }
    made = scaffold(NAME, "mqtt", "iot", **kwargs)  # type: ignore[arg-type]
    before = made.registry.read_text()
    with pytest.raises(ScaffoldError, match="will not overwrite"):
        scaffold(NAME, "mqtt", "iot", **kwargs)  # type: ignore[arg-type]
    # Same name in another sector is refused too (names are unique across the registry).
    with pytest.raises(ScaffoldError, match="will not overwrite"):
        scaffold(NAME, "sql", "health", **kwargs)  # type: ignore[arg-type]
    assert made.registry.read_text() == before
    # Through the command: refused before anything is written into the real repository.
    result = CliRunner().invoke(app, ["sources", "new", NAME, "--kind", "sql", "--sector", "iot"])
    assert result.exit_code == 1 and "will not overwrite" in result.output
    assert not (REPO_ROOT / "tests" / "connectors" / f"test_source_{NAME}.py").exists()
    for kind in ("files", "sql", "rest"):
        scaffold(f"{NAME}_{kind}", kind, "health", **kwargs)  # type: ignore[arg-type]
    assert len(load_registry(own_registry)) == 4  # every template is a valid source


def test_check_real_systems(lake_home: Settings) -> None:
    sources = load_registry(lake_home)
    sql = next(
        s for s in sources.values() if s.kind == "sql" and "{pg}" in (s.connection.default or "")
    )
    lines = check_source(sql, lake_home)
    assert all(line.ok for line in lines), lines
    url = sql.connection.resolve(lake_home, {})
    with psycopg.connect(url) as pg:
        for table, line in zip(sql.tables, lines[1:], strict=True):
            if table.table:
                row = pg.execute(f'SELECT count(*) FROM "{table.table}"').fetchone()
                assert row is not None
                assert line.detail.startswith(f"{row[0]:,} rows"), line

    rest = next(s for s in sources.values() if s.kind == "rest")
    lines = check_source(rest, lake_home)
    assert lines and all(line.ok and "HTTP 2" in line.detail for line in lines), lines

    mqtt = check_source(sources["iot_mqtt"], lake_home)
    assert mqtt[0].ok and mqtt[0].detail == "connected"


def test_check_fails_when_unreachable(lake_home: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_MQTT_URL", "mqtt://127.0.0.1:1")
    result = CliRunner().invoke(app, ["sources", "check", "iot_mqtt"])
    assert result.exit_code == 1 and "unreachable" in result.output
    sql = next(s for s in load_registry(lake_home).values() if s.kind == "sql" and s.connection.env)
    assert sql.connection.env is not None
    monkeypatch.setenv(sql.connection.env, "postgresql://postgres@127.0.0.1:5432/no_such_db_x")
    lines = check_source(sql, lake_home)
    assert not lines[0].ok
