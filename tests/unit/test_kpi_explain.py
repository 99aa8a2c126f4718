"""`ioc kpi explain` on a tiny warehouse: real DuckDB tables with the marts' columns, filled
with a handful of dossiers whose effects are worked out by hand below.

Commune 28261, 766-4.2 (threshold 80 %, 4 points): September has five dossiers, three digitised
(3/5 = 60 %, 3 points). Without a digitised one the value is 2/4 = 50 % (effect +10 pp, +0.5
points); without one that is not, 3/4 = 75 % (effect −15 pp, −0.75 points), so the two
undigitised dossiers rank first. August has two, one digitised; the quarter is 4/7.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from iochub.cli import app
from iochub.kpi_explain import (
    AdminUnit,
    ExplainError,
    explain,
    period_months,
    qd766_score,
    render,
)

_SCHEMA = """
create schema marts;
create table marts.kpi_catalogue (kpi_id varchar);
create table marts.dim_admin_unit (admin_unit_key varchar, admin_unit_name varchar);
create table marts.fct_kpi_value (
    kpi_id varchar, period_type varchar, period varchar, period_start date,
    admin_level varchar, admin_code varchar, admin_unit_key varchar, numerator double,
    denominator double, value double, period_aggregation varchar, months_covered integer,
    months_in_period integer, name_vi varchar, name_en varchar, unit varchar,
    direction varchar, scoring_kind varchar, threshold double, max_points integer,
    target_source varchar, target_value double, target_comparison varchar, status varchar,
    score double
);
create table marts.fct_kpi_contribution (
    kpi_contribution_id varchar, kpi_id varchar, period varchar, commune_code varchar,
    legacy_district_code varchar, record_type varchar, record_id varchar,
    procedure_code varchar, numerator double, denominator double, reason_code varchar,
    reason varchar
);
create table marts.kpi_rule_clauses (
    clause_id varchar, kpi_id varchar, ordinal integer, aspect varchar, rule_en varchar,
    rule_vi varchar, reference varchar, is_interpretation boolean, alternative varchar,
    alternative_kpi_id varchar, alternative_effect varchar
);
"""

# kpi, period, type, start, n, d, unit, scoring, threshold, points, months covered / in period
_VALUES = [
    ("766-4.2", "2025-08", "month", "2025-08-01", 1, 2, "ratio", "threshold", 0.8, 4, 1, 1),
    ("766-4.2", "2025-09", "month", "2025-09-01", 3, 5, "ratio", "threshold", 0.8, 4, 1, 1),
    ("766-4.2", "2025-Q3", "quarter", "2025-07-01", 4, 7, "ratio", "threshold", 0.8, 4, 2, 3),
    ("766-4.2f", "2025-09", "month", "2025-09-01", 2, 3, "ratio", "none", None, None, 1, 1),
    ("766-3.3r", "2025-09", "month", "2025-09-01", 4, 5, "ratio", "none", None, None, 1, 1),
    ("766-1.4", "2025-09", "month", "2025-09-01", 3, 5, "ratio", "threshold", 1, 6, 1, 1),
    ("766-3.3", "2025-09", "month", "2025-09-01", 2.4, 5, "ratio", "threshold", 0.5, None, 1, 1),
    ("YT-01", "2025-09", "month", "2025-09-01", 70, 100, "ratio", "none", None, None, 1, 1),
]

# kpi, month, dossier, numerator, reason code
_RECORDS = [
    ("766-4.2", "2025-08", "H08-1", 1, None),
    ("766-4.2", "2025-08", "H08-2", 0, "no_attachment"),
    ("766-4.2", "2025-09", "H09-1", 1, None),
    ("766-4.2", "2025-09", "H09-2", 1, None),
    ("766-4.2", "2025-09", "H09-3", 1, None),
    ("766-4.2", "2025-09", "H09-4", 0, "no_electronic_result"),
    ("766-4.2", "2025-09", "H09-5", 0, "attachment_not_digitised"),
    ("766-4.2f", "2025-09", "H09-1", 1, None),
    ("766-4.2f", "2025-09", "H09-2", 1, None),
    ("766-4.2f", "2025-09", "H09-5", 0, "attachment_not_digitised"),
    *(("766-3.3r", "2025-09", f"H09-{i}", int(i != 4), None) for i in range(1, 6)),
    *(("766-1.4", "2025-09", f"H09-{i}", int(i <= 3), None) for i in range(1, 6)),
]


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_SCHEMA)
    con.execute("insert into marts.dim_admin_unit values ('current:commune:28261', 'Mỹ Tho')")
    for kpi, period, ptype, start, n, d, unit, kind, threshold, points, cov, months in _VALUES:
        value = n / d
        score = qd766_score(value, kind, threshold, points)
        con.execute(
            "insert into marts.fct_kpi_value values "
            "(?, ?, ?, ?, 'commune', '28261', 'current:commune:28261', ?, ?, ?, 'ratio', ?, ?, "
            "'tên', ?, ?, 'higher_is_better', ?, ?, ?, ?, ?, '>=', 'not met', ?)",
            [
                kpi,
                ptype,
                period,
                start,
                n,
                d,
                value,
                cov,
                months,
                f"name of {kpi}",
                unit,
                kind,
                threshold,
                points,
                "qd766_threshold" if threshold else None,
                threshold,
                score,
            ],
        )
    con.execute(
        "insert into marts.kpi_catalogue select distinct kpi_id from marts.fct_kpi_value "
        "union all select '766-2.1'"
    )
    for kpi, month, dossier, n, code in _RECORDS:
        con.execute(
            "insert into marts.fct_kpi_contribution values "
            "(?, ?, ?, '28261', '815', 'dossier', ?, '1.0001', ?, 1, ?, ?)",
            [f"{kpi}|dossier|{dossier}", kpi, month, dossier, n, code, code and f"why {code}"],
        )
    con.execute(
        "insert into marts.kpi_rule_clauses values "
        "('766-4.2|1', '766-4.2', 1, 'population', 'all dossiers received', 'mọi hồ sơ', "
        "'QĐ 766/QĐ-TTg', false, null, null, null), "
        "('766-4.2|2', '766-4.2', 2, 'population', 'whatever the status', 'mọi trạng thái', "
        "null, true, 'completed dossiers only', '766-4.2f', 'higher: unfinished ones drop out')"
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    _fill(connection)
    return connection


COMMUNE = AdminUnit("commune", "28261")


def test_records_rank_by_their_effect_on_the_value(con: duckdb.DuckDBPyConnection) -> None:
    result = explain(con, "766-4.2", "2025-09", COMMUNE, top=10)
    assert (result.row.numerator, result.row.denominator, result.row.value) == (3, 5, 0.6)
    assert result.row.admin_name == "Mỹ Tho"
    records = result.records
    assert records is not None and result.records_note is None
    assert (records.count, records.numerator, records.denominator) == (5, 3, 5)
    assert records.short_by_reason == (("attachment_not_digitised", 1), ("no_electronic_result", 1))
    ranked = [(r.record_id, r.value_without, r.effect, r.score_effect) for r in records.top]
    assert [r[0] for r in ranked] == ["H09-4", "H09-5", "H09-1", "H09-2", "H09-3"]
    assert ranked[0][1:] == pytest.approx((0.75, -0.15, -0.75))
    assert ranked[2][1:] == pytest.approx((0.5, 0.1, 0.5))


def test_top_cuts_the_ranking(con: duckdb.DuckDBPyConnection) -> None:
    result = explain(con, "766-4.2", "2025-09", COMMUNE, top=1)
    assert result.records is not None
    assert [r.record_id for r in result.records.top] == ["H09-4"]
    assert result.records.count == 5


def test_a_quarter_ranks_the_records_of_its_months(con: duckdb.DuckDBPyConnection) -> None:
    result = explain(con, "766-4.2", "2025-Q3", COMMUNE, top=3)
    assert [m.period for m in result.months] == ["2025-08", "2025-09"]
    assert result.records is not None
    assert (result.records.count, result.records.numerator, result.records.denominator) == (7, 4, 7)
    # Without an undigitised dossier 4/6, without a digitised one 3/6: |4/7 − 4/6| > |4/7 − 3/6|.
    top = result.records.top
    assert [r.record_id for r in top] == ["H08-2", "H09-4", "H09-5"]
    assert top[0].effect == pytest.approx(4 / 7 - 4 / 6)
    assert top[0].period == "2025-08"


def test_a_score_above_the_threshold_is_not_moved() -> None:
    assert qd766_score(0.9, "threshold", 0.8, 4) == 4.0
    assert qd766_score(0.85, "threshold", 0.8, 4) == 4.0
    assert qd766_score(0.4, "threshold", 0.8, 4) == pytest.approx(2.0)
    assert qd766_score(-0.1, "linear", None, 6) == 0.0
    assert qd766_score(0.5, "none", None, None) is None


def test_clauses_show_the_alternative_reading_beside(con: duckdb.DuckDBPyConnection) -> None:
    result = explain(con, "766-4.2", "2025-09", COMMUNE)
    assert [c.ordinal for c in result.clauses] == [1, 2]
    assert result.clauses[0].reference == "QĐ 766/QĐ-TTg"
    alternative = result.clauses[1]
    assert alternative.is_interpretation and alternative.alternative_kpi_id == "766-4.2f"
    assert alternative.alternative_value == pytest.approx(2 / 3)


def test_the_online_share_is_explained_by_its_two_factors(
    con: duckdb.DuckDBPyConnection,
) -> None:
    result = explain(con, "766-3.3", "2025-09", COMMUNE)
    assert result.records is None
    assert result.records_note is not None and "766-3.3r × 766-1.4" in result.records_note
    share, sync = result.factors
    assert (share.row.kpi_id, share.row.value) == ("766-3.3r", 0.8)
    assert (sync.row.kpi_id, sync.row.value) == ("766-1.4", 0.6)
    assert result.row.value == pytest.approx(0.8 * 0.6)
    assert share.records is not None and share.records.top[0].record_id == "H09-4"


def test_an_indicator_without_records_says_so(con: duckdb.DuckDBPyConnection) -> None:
    result = explain(con, "YT-01", "2025-09", COMMUNE)
    assert result.records is None
    assert result.records_note is not None and "not itemised" in result.records_note
    assert result.clauses == () and result.clauses_note is not None


def test_unknown_ids_and_missing_periods_say_what_exists(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(ExplainError, match=r"unknown indicator '4\.2'.*766-4\.2"):
        explain(con, "4.2", "2025-09", COMMUNE)
    with pytest.raises(ExplainError, match="periods with a value: 2025-08, 2025-09, 2025-Q3"):
        explain(con, "766-4.2", "2025-10", COMMUNE)
    with pytest.raises(ExplainError, match="commune: 1 unit"):
        explain(con, "766-4.2", "2025-09", AdminUnit("commune", "99999"))
    with pytest.raises(ExplainError, match="no value at all"):
        explain(con, "766-2.1", "2025-09", COMMUNE)
    with pytest.raises(ExplainError, match="not a month"):
        period_months("2025-13")
    assert period_months("2025-Q4") == ("quarter", ("2025-10", "2025-11", "2025-12"))


def test_render_prints_value_rules_and_records(con: duckdb.DuckDBPyConnection) -> None:
    out = Console(record=True, width=200)
    render(explain(con, "766-4.2", "2025-09", COMMUNE), out)
    text = out.export_text()
    assert "value   60.0 % = 3 / 5" in text
    assert "3.00 of 4 points" in text
    assert "766-4.2f = 66.7 %" in text
    assert "-15.00 pp" in text and "+10.00 pp" in text and "-0.750" in text


def test_the_command_reads_the_published_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_HOME", str(tmp_path))
    runner = CliRunner()
    missing = runner.invoke(app, ["kpi", "explain", "766-4.2", "--period", "2025-09"])
    assert missing.exit_code == 1 and "make demo" in missing.output
    (tmp_path / "warehouse").mkdir()
    with duckdb.connect(str(tmp_path / "warehouse" / "serving.duckdb")) as con:
        _fill(con)
    args = ["kpi", "explain", "766-4.2", "--period", "2025-09", "--commune", "28261"]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "60.0 % = 3 / 5" in shown.output and "H09-4" in shown.output
    as_json = runner.invoke(app, [*args, "--json", "--top", "2"])
    assert as_json.exit_code == 0
    assert '"record_id": "H09-5"' in as_json.output and "H09-1" not in as_json.output
    unknown = runner.invoke(app, ["kpi", "explain", "766-4.9", "--period", "2025-09"])
    assert unknown.exit_code == 1 and "766-4.2" in unknown.output
