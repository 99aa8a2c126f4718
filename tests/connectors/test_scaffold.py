"""``ioc sources new`` and ``ioc sources check`` end to end.

A files/csv source is scaffolded into a throwaway registry (IOC_SOURCES_DIR), validated, checked,
fed CSV files and extracted by the real command: the rows landed and quarantined are counted
against the files. ``check`` then runs against the demo province's real PostgreSQL, HTTP API
and Mosquitto, with row counts compared to what the database holds, and must fail (exit 1)
when a source cannot be reached.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg
import pytest
from typer.testing import CliRunner

from connectors.check import check_source
from connectors.registry import load_registry, load_source
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
    assert f"source('{NAME}', 'records')" in made.staging.read_text()
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
