"""Extract → dbt build → GX gate → publish, without Airflow, against the fixture's answers."""

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from connectors.landing import new_run_id
from expectations.gate import GateFailed, run_publish_gate
from iochub.pipeline import run_pipeline
from iochub.settings import Settings, get_settings
from iochub.warehouse import build_and_publish, dbt_args, gate_and_publish, prepare_build
from simulator.fixtures import seed_xml130_inbox
from tests.fixtures_truth import (
    CLEAR_PII,
    DRUG_LINES,
    EPISODES_BY_COMMUNE,
    EPISODES_BY_DATE,
    TOTAL_COST_VND,
    VALID_EPISODES,
)

pytestmark = pytest.mark.integration


def _digest(path: str) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's claim files through the whole pipeline, once for the module."""
    home = tmp_path_factory.mktemp("warehouse") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IOC_HOME", str(home))
        settings = get_settings()
        seed_xml130_inbox(settings.sim_dir)
        run_pipeline(settings, ["health_xml130"])
    return home


@pytest.fixture
def built(built_once: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A copy of that IOC_HOME for one test: the tests damage, rebuild or kill its warehouse,
    and each must start from the same published state (a copy costs a second, a pipeline run
    over a minute)."""
    home = tmp_path / "home"
    shutil.copytree(built_once, home, symlinks=True)
    monkeypatch.setenv("IOC_HOME", str(home))
    return get_settings()


def test_serving_warehouse_equals_the_fixture_truth(built: Settings) -> None:
    with duckdb.connect(str(built.serving_db), read_only=True) as con:
        episodes, cost, lines = con.execute(
            "select count(*), sum(total_cost_vnd), sum(drug_lines) from marts.fct_health_episode"
        ).fetchall()[0]
        by_commune = dict(
            con.execute(
                "select commune_code, sum(episodes) from marts.agg_health_episode_daily_commune "
                "group by 1"
            ).fetchall()
        )
        by_date = dict(
            con.execute(
                "select strftime(episode_date, '%Y-%m-%d'), sum(episodes) "
                "from marts.agg_health_episode_daily_commune group by 1"
            ).fetchall()
        )
        located = con.execute(
            "select count(*) from marts.agg_health_episode_daily_commune where latitude is null"
        ).fetchone()
        schemas = {
            r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()
        }
        gate = con.execute("select count(*), bool_and(success) from meta.gate_result").fetchone()
    assert (episodes, cost, lines) == (VALID_EPISODES, TOTAL_COST_VND, DRUG_LINES)
    assert by_commune == EPISODES_BY_COMMUNE
    assert by_date == EPISODES_BY_DATE
    assert located == (0,)
    # staging never reaches the serving side; the map layers do
    assert schemas == {"marts", "meta", "reference", "geo"}
    assert gate is not None and gate[0] > 0 and gate[1] is True


def test_no_clear_personal_data_in_the_warehouses(built: Settings) -> None:
    for path in (built.build_db, built.serving_db):
        blob = path.read_bytes()
        for clear in CLEAR_PII:
            assert clear.encode() not in blob, f"{clear} in clear in {path}"


def test_bad_mart_is_refused_and_serving_keeps_the_last_good_warehouse(built: Settings) -> None:
    before = _digest(str(built.serving_db))
    with duckdb.connect(str(built.build_db)) as con:
        con.execute(
            "update marts.fct_health_episode set total_cost_vnd = -1 where episode_id like '%0002'"
        )
    with pytest.raises(GateFailed) as err:
        gate_and_publish(built, run_id="bad-run")
    assert "total_cost_vnd" in str(err.value)
    assert _digest(str(built.serving_db)) == before
    with duckdb.connect(str(built.build_db), read_only=True) as con:
        failed = con.execute(
            "select expectation, column_name from meta.gate_result "
            "where run_id = 'bad-run' and not success"
        ).fetchall()
    assert failed == [("expect_column_values_to_be_between", "total_cost_vnd")]


def test_gate_catches_a_duplicate_episode(built: Settings) -> None:
    with duckdb.connect(str(built.build_db)) as con:
        con.execute(
            "insert into marts.fct_health_episode select * from marts.fct_health_episode limit 1"
        )
    result = run_publish_gate(built.build_db, "dup-run")
    assert not result.success
    assert {(f.expectation, f.column) for f in result.failures} == {
        ("expect_column_values_to_be_unique", "episode_key")
    }


def test_gate_refuses_a_warehouse_that_lost_rows_tables_or_columns(built: Settings) -> None:
    """Against the last published warehouse: a mart with under half its rows, a table gone, a
    column gone are each refused, and nothing else is."""
    before = _digest(str(built.serving_db))
    with duckdb.connect(str(built.build_db)) as con:
        con.execute("delete from marts.fct_health_drug_line where rowid % 4 <> 0")
        con.execute("drop table marts.dim_date")
        con.execute("alter table marts.dim_facility drop column facility_kind_name")
    with pytest.raises(GateFailed) as err:
        gate_and_publish(built, run_id="shrunk-run")
    assert _digest(str(built.serving_db)) == before
    assert "marts.fct_health_drug_line" not in str(err.value)  # the frame, not per table
    with duckdb.connect(str(built.build_db), read_only=True) as con:
        failed = con.execute(
            "select table_name, column_name, observed from meta.gate_result "
            "where run_id = 'shrunk-run' and not success order by column_name"
        ).fetchall()
    assert [(table, column) for table, column, _ in failed] == [
        ("meta.warehouse_inventory", "columns_lost"),
        ("meta.warehouse_inventory", "row_ratio"),
        ("meta.warehouse_inventory", "rows"),
    ]
    assert all(observed == "1" for _, _, observed in failed), failed


def _table_checksums(serving_db: str) -> dict[str, tuple[int, str]]:
    """Rows and an order-free checksum of every table of the marts and reference schemas (meta
    holds the build's own times and run ids)."""
    with duckdb.connect(serving_db, read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('marts', 'reference') order by 1"
        ).fetchall()
        return {
            table: tuple(
                con.execute(
                    f"select count(*), coalesce(bit_xor(hash(t)), 0)::varchar from {table} as t"
                ).fetchall()[0]
            )
            for (table,) in tables
        }


def test_rerun_after_a_kill_mid_build_publishes_the_same_warehouse(built: Settings) -> None:
    """A build killed half-way, then a whole rebuild: every published table holds the same rows
    as before (so a plain rebuild gives the same warehouse too)."""
    clean = _table_checksums(str(built.serving_db))
    assert clean["marts.fct_health_episode"][0] == VALID_EPISODES
    prepare_build(built)
    dbt = subprocess.Popen(
        [str(built.dbt_executable), *dbt_args(built, "build")],
        env={**os.environ, **built.tool_environment()},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(12)
    assert dbt.poll() is None, "dbt finished before it could be killed: kill it earlier"
    os.killpg(dbt.pid, signal.SIGKILL)
    dbt.wait()
    build_and_publish(built, new_run_id())
    assert _table_checksums(str(built.serving_db)) == clean


def test_gate_after_a_partial_build_validates_only_what_changed(built: Settings) -> None:
    """With only_changed, the marts equal to the published ones are not read again; a changed
    one is, and a bad value in it is still refused."""
    unchanged = run_publish_gate(
        built.build_db, "quiet-run", serving_db=built.serving_db, only_changed=True
    )
    assert unchanged.success
    validated = {o.table for o in unchanged.outcomes}
    assert not any(table.startswith("marts.") for table in validated), validated
    assert "meta.warehouse_inventory" in validated

    with duckdb.connect(str(built.build_db)) as con:
        con.execute(
            "update marts.fct_health_episode set total_cost_vnd = -1 where episode_id like '%0002'"
        )
    changed = run_publish_gate(
        built.build_db, "changed-run", serving_db=built.serving_db, only_changed=True
    )
    assert {o.table for o in changed.outcomes if o.table.startswith("marts.")} == {
        "marts.fct_health_episode"
    }
    assert {(f.expectation, f.column) for f in changed.failures} == {
        ("expect_column_values_to_be_between", "total_cost_vnd")
    }
