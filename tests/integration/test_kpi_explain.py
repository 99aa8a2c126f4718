"""`ioc kpi explain` on the demo province (session fixture ``province_warehouse``: scale 0.01,
June–October 2025), published into a home of its own as ``make demo`` would.

What the command says is checked against the marts it reads, queried here independently:
numerator and denominator equal the ``fct_kpi_value`` row; the records add up to it; the top
records and their effects are recomputed from ``fct_kpi_contribution``; a quarter is the sum
of its months; 766-3.3 is the product of its two factors; an interpretation shows the
alternative reading's value; an unknown id fails with the close ids.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from iochub.cli import app
from iochub.kpi_explain import AdminUnit, explain, explain_published, qd766_score
from iochub.publish import publish
from iochub.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def published(province_warehouse: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = dataclasses.replace(
        province_warehouse, home=tmp_path_factory.mktemp("explain") / "home"
    )
    publish(province_warehouse.build_db, settings.serving_db)
    return settings


@pytest.fixture
def serving(published: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(published.serving_db), read_only=True) as con:
        yield con


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> tuple[Any, ...]:
    row = con.execute(sql, params).fetchone()
    assert row is not None, (sql, params)
    return row


def _busiest_commune(con: duckdb.DuckDBPyConnection, kpi_id: str, period: str) -> str:
    """The commune with the most records that month, the one a leader would ask about."""
    return str(
        _one(
            con,
            "select admin_code from marts.fct_kpi_value where kpi_id = ? and period = ? "
            "and admin_level = 'commune' order by denominator desc, admin_code limit 1",
            [kpi_id, period],
        )[0]
    )


def _invoke(published: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("IOC_HOME", str(published.home))
    return CliRunner().invoke(app, ["kpi", "explain", *args])


def test_the_command_prints_the_row_and_ranks_its_records(
    published: Settings, serving: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    commune = _busiest_commune(serving, "766-4.2", "2025-09")
    result = _invoke(
        published, monkeypatch, "766-4.2", "--period", "2025-09", "--commune", commune, "--json"
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    numerator, denominator, value, score, max_points = _one(
        serving,
        "select numerator, denominator, value, score, max_points from marts.fct_kpi_value "
        "where kpi_id = '766-4.2' and period = '2025-09' and admin_level = 'commune' "
        "and admin_code = ?",
        [commune],
    )
    row = shown["row"]
    assert (row["numerator"], row["denominator"], row["value"]) == (
        numerator,
        denominator,
        value,
    )
    assert (row["score"], row["max_points"]) == (score, max_points) and max_points == 4

    contributions = serving.execute(
        "select record_id, numerator, denominator, reason_code from marts.fct_kpi_contribution "
        "where kpi_id = '766-4.2' and period = '2025-09' and commune_code = ?",
        [commune],
    ).fetchall()
    records = shown["records"]
    # Every dossier the commune received counts, unfinished or not (the lead's reading).
    assert records["count"] == len(contributions) == denominator
    assert records["numerator"] == sum(n for _, n, _, _ in contributions) == numerator

    def effect(n: float, d: float) -> float:
        return float(value - (numerator - n) / (denominator - d))

    ranked = sorted(contributions, key=lambda c: (-abs(effect(c[1], c[2])), c[0]))
    top = records["top"]
    assert [r["record_id"] for r in top] == [c[0] for c in ranked[:10]]
    for record, (_, n, d, _) in zip(top, ranked, strict=False):
        assert record["effect"] == pytest.approx(effect(n, d), abs=1e-12)
        without = (numerator - record["numerator"]) / (denominator - record["denominator"])
        now, then = (qd766_score(v, "threshold", 0.8, 4) for v in (value, without))
        assert now is not None and then is not None
        assert record["score_effect"] == pytest.approx(now - then, abs=1e-12)
        assert (record["reason_code"] is None) == (record["numerator"] == 1)

    text = _invoke(published, monkeypatch, "766-4.2", "--period", "2025-09", "--commune", commune)
    assert text.exit_code == 0, text.output
    assert top[0]["record_id"] in text.output and "points" in text.output


def test_every_itemised_indicator_adds_up_to_its_row(
    serving: duckdb.DuckDBPyConnection,
) -> None:
    itemised = [
        r[0]
        for r in serving.execute(
            "select distinct kpi_id from marts.fct_kpi_contribution order by 1"
        ).fetchall()
    ]
    assert {"766-2.2", "766-2.2n", "766-4.2", "766-4.2f", "766-5.2"} <= set(itemised)
    # For each indicator and level, the unit-month with the most records.
    busiest = serving.execute(
        "select kpi_id, admin_level, admin_code, period, numerator, denominator "
        "from marts.fct_kpi_value where period_type = 'month' and kpi_id in "
        "(select kpi_id from marts.fct_kpi_contribution) "
        "qualify row_number() over (partition by kpi_id, admin_level "
        "order by denominator desc, period, admin_code) = 1 order by all"
    ).fetchall()
    assert {(k, level) for k, level, *_ in busiest} >= {
        (k, level) for k in itemised for level in ("commune", "province")
    }
    assert any(level == "district" for _, level, *_ in busiest)
    for kpi_id, level, code, period, numerator, denominator in busiest:
        result = explain(serving, kpi_id, period, AdminUnit(level, code), top=3)
        assert result.records is not None and result.records_note is None, (kpi_id, level)
        assert (result.row.numerator, result.row.denominator) == (numerator, denominator)
        assert result.records.numerator == pytest.approx(numerator, abs=1e-9)
        assert result.records.denominator == pytest.approx(denominator, abs=1e-9)


def test_a_quarter_is_the_sum_of_its_months(serving: duckdb.DuckDBPyConnection) -> None:
    province = AdminUnit("province", "82")
    quarter = explain(serving, "766-2.2", "2025-Q3", province, top=5)
    months = [m.period for m in quarter.months]
    assert months == ["2025-07", "2025-08", "2025-09"]
    assert quarter.row.numerator == pytest.approx(sum(m.numerator or 0 for m in quarter.months))
    assert quarter.row.denominator == pytest.approx(sum(m.denominator or 0 for m in quarter.months))
    assert quarter.records is not None
    assert quarter.records.count == quarter.row.denominator
    assert quarter.records.numerator == pytest.approx(quarter.row.numerator)
    assert {r.period for r in quarter.records.top} <= set(months)
    assert all(r.reason_code == "processing_days" for r in quarter.records.top)


def test_the_online_share_shows_both_factors(
    published: Settings, serving: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = explain_published(
        published.serving_db, "766-3.3", "2025-09", AdminUnit("province", "82"), 5
    )
    share, sync = result.factors
    assert (share.row.kpi_id, sync.row.kpi_id) == ("766-3.3r", "766-1.4")
    assert share.row.value is not None and sync.row.value is not None
    assert result.row.value == pytest.approx(share.row.value * sync.row.value, abs=1e-12)
    assert share.records is not None and sync.records is not None
    assert share.records.count == sync.records.count == result.row.denominator
    text = _invoke(published, monkeypatch, "766-3.3", "--period", "2025-09")
    assert text.exit_code == 0, text.output
    assert "factor 1 of 766-3.3: 766-3.3r" in text.output
    assert "factor 2 of 766-3.3: 766-1.4" in text.output


def test_an_interpretation_shows_the_other_reading(serving: duckdb.DuckDBPyConnection) -> None:
    province = AdminUnit("province", "82")
    result = explain(serving, "766-4.2", "2025-Q3", province, top=1)
    assert result.clauses_note is None and result.clauses
    assert [c.ordinal for c in result.clauses] == sorted(c.ordinal for c in result.clauses)
    alternatives = [c for c in result.clauses if c.alternative_kpi_id == "766-4.2f"]
    assert alternatives and all(c.is_interpretation for c in alternatives)
    completed_only = _one(
        serving,
        "select value from marts.fct_kpi_value where kpi_id = '766-4.2f' "
        "and period = '2025-Q3' and admin_level = 'province'",
        [],
    )[0]
    assert alternatives[0].alternative_value == completed_only


def test_an_indicator_without_records_and_the_errors(
    published: Settings, serving: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    episodes = explain(serving, "OPS-HEALTH-EPISODES", "2025-09", AdminUnit("province", "82"))
    assert episodes.records is None and episodes.records_note is not None
    assert episodes.records_note.startswith("not itemised")

    unknown = _invoke(published, monkeypatch, "766-4.22", "--period", "2025-09")
    assert unknown.exit_code == 1
    assert "unknown indicator" in unknown.output and "766-4.2" in unknown.output
    no_period = _invoke(published, monkeypatch, "766-4.2", "--period", "2025-01")
    assert no_period.exit_code == 1 and "2025-09" in no_period.output
    monkeypatch.setenv("IOC_HOME", str(Path(published.home).parent / "nothing"))
    none = CliRunner().invoke(app, ["kpi", "explain", "766-4.2", "--period", "2025-09"])
    assert none.exit_code == 1 and "make demo" in none.output
