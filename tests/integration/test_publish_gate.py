"""The publish gate on the demo province's warehouse: every mart has a suite and passes it, and
a rate above 1, a key missing from its dimension or a fact that went back in time is refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from expectations import gate
from expectations.contract import mart_models
from expectations.gate import MARTS_DIR, ExpectationOutcome, mart_suites, run_publish_gate
from expectations.suites import MartSuite
from iochub.settings import Settings

pytestmark = pytest.mark.integration


def test_every_mart_has_a_suite_and_the_province_passes(province_warehouse: Settings) -> None:
    suites = mart_suites(province_warehouse.build_db)
    assert {s.table.split(".", 1)[1] for s in suites} == mart_models(MARTS_DIR)
    result = run_publish_gate(province_warehouse.build_db, "province-gate", suites)
    assert result.success, "\n".join(
        f"{f.table}: {f.expectation}({f.column}) observed {f.observed}" for f in result.failures
    )
    assert len(result.outcomes) > 300


def test_rates_references_and_freshness_are_enforced(
    province_warehouse: Settings, tmp_path: Path
) -> None:
    serving = tmp_path / "serving.duckdb"
    build = tmp_path / "build.duckdb"
    shutil.copy(province_warehouse.build_db, serving)
    shutil.copy(province_warehouse.build_db, build)
    with duckdb.connect(str(build)) as con:
        con.execute(
            "update marts.fct_ehr_coverage_monthly set ehr_coverage_rate = 1.5 "
            "where rowid = (select min(rowid) from marts.fct_ehr_coverage_monthly)"
        )
        con.execute(
            "update marts.fct_enrolment set school_code = 'NO-SUCH-SCHOOL' "
            "where rowid = (select min(rowid) from marts.fct_enrolment)"
        )
        con.execute(
            "delete from marts.fct_dossier "
            "where received_on = (select max(received_on) from marts.fct_dossier)"
        )
    result = run_publish_gate(build, "bad-marts", serving_db=serving)
    assert {(f.table, f.expectation, f.column) for f in result.failures} == {
        (
            "marts.fct_ehr_coverage_monthly",
            "expect_column_values_to_be_between",
            "ehr_coverage_rate",
        ),
        ("marts.fct_enrolment", "expect_column_values_to_be_in_set", "school_code__in__dim_school"),
        ("marts.fct_dossier", "expect_column_max_to_be_between", "received_on"),
        # the deleted dossiers' events now point nowhere
        (
            "marts.fct_dossier_event",
            "expect_column_values_to_be_in_set",
            "dossier_code__in__fct_dossier",
        ),
    }


def test_a_large_changed_mart_is_validated_on_its_new_rows(
    province_warehouse: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate, "LARGE_MART_ROWS", 1)  # the demo province's marts are small
    serving = tmp_path / "serving.duckdb"
    build = tmp_path / "build.duckdb"
    shutil.copy(province_warehouse.build_db, serving)
    shutil.copy(province_warehouse.build_db, build)
    first = "rowid = (select min(rowid) from marts.fct_health_episode)"
    # A negative cost already published: validated when it was, not read again.
    for db in (serving, build):
        with duckdb.connect(str(db)) as con:
            con.execute(f"update marts.fct_health_episode set total_cost_vnd = -1 where {first}")
    with duckdb.connect(str(build)) as con:
        # A new row: a copy of another published episode (its key taken), an unknown visit type.
        con.execute(
            "insert into marts.fct_health_episode "
            "select * replace ('99' as visit_type_code) from marts.fct_health_episode "
            "where rowid = (select max(rowid) from marts.fct_health_episode)"
        )
    result = run_publish_gate(build, "new-rows", serving_db=serving, only_changed=True)
    assert {(f.checkpoint, f.expectation, f.column, f.observed) for f in result.failures} == {
        (
            "publish_gate__marts__fct_health_episode__new_rows",
            "expect_column_values_to_be_in_set",
            "visit_type_code",
            "1",
        ),
        # uniqueness is judged on the whole mart
        (
            "publish_gate__marts__fct_health_episode",
            "expect_column_values_to_be_unique",
            "episode_key",
            "2",
        ),
    }
    # Only the changed mart was read, in two parts, and every expectation of its suite ran once.
    checked = {o.checkpoint for o in result.outcomes if o.table == "marts.fct_health_episode"}
    assert checked == {
        "publish_gate__marts__fct_health_episode",
        "publish_gate__marts__fct_health_episode__new_rows",
    }
    (suite,) = mart_suites(build, serving, only={"fct_health_episode"})
    assert len([o for o in result.outcomes if o.table == suite.table]) == len(suite.expectations())


def test_a_large_mart_is_validated_a_frame_at_a_time(
    province_warehouse: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate, "LARGE_MART_ROWS", 1)
    monkeypatch.setattr(gate, "VECTORS_PER_FRAME", 1)  # frames of 2,048 rows
    build = tmp_path / "build.duckdb"
    shutil.copy(province_warehouse.build_db, build)
    with duckdb.connect(str(build)) as con:
        episodes = con.execute("select count(*) from marts.fct_health_episode").fetchall()[0][0]
        assert episodes > 3 * 2048
        # Two unknown visit types, in the first frame and in the last.
        con.execute(
            "update marts.fct_health_episode set visit_type_code = '99' "
            f"where rowid in (10, {episodes - 10})"
        )
    (suite,) = mart_suites(build, only={"fct_health_episode"})
    frames: list[int] = []
    validate = gate.validate_dataframe

    def counting(part: MartSuite, frame: pd.DataFrame, *args: Any) -> list[ExpectationOutcome]:
        frames.append(len(frame))
        return validate(part, frame, *args)

    monkeypatch.setattr(gate, "validate_dataframe", counting)
    result = run_publish_gate(build, "frames", [suite])
    # the whole-mart expectations once, the row-by-row ones a frame at a time
    full, rest = divmod(episodes, 2048)
    assert frames[0] == episodes and frames[1:] == [2048] * full + ([rest] if rest else [])
    assert {(f.checkpoint, f.expectation, f.column, f.observed) for f in result.failures} == {
        (
            "publish_gate__marts__fct_health_episode",
            "expect_column_values_to_be_in_set",
            "visit_type_code",
            "2",  # summed over the frames
        ),
    }
    assert len(result.outcomes) == len(suite.expectations())
