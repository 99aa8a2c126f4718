"""Every mart of the dbt project has publish-gate rules, and its dbt contract is read."""

from expectations.contract import mart_models, read_mart_contracts
from expectations.gate import MARTS_DIR
from expectations.suites import MART_RULES


def test_every_mart_has_rules_and_no_rule_is_stale() -> None:
    # The source marts `ioc dbt sources` generates (models/marts/sources/) carry their rules in
    # their generated YAML (the registry's key unique, required columns not null): a data
    # engineer adding a source writes none here.
    generated = {path.stem for path in (MARTS_DIR / "sources").glob("src_*.sql")}
    marts = mart_models(MARTS_DIR) - generated
    assert marts - MART_RULES.keys() == set(), "add the new mart to expectations.suites"
    assert MART_RULES.keys() - marts == set(), "a rule names a mart that no longer exists"


def test_the_dbt_contract_is_read() -> None:
    contracts = read_mart_contracts(MARTS_DIR)
    assert contracts.keys() == mart_models(MARTS_DIR)
    enrolment = contracts["fct_enrolment"].columns
    assert enrolment["school_code"].relationship is not None
    assert enrolment["school_code"].relationship.to_model == "dim_school"
    alerts = contracts["alerts"].columns
    assert "source_failing" in (alerts["alert_rule"].accepted_values or [])
    assert alerts["alert_rule"].not_null
    # A test of some rows only (`where`) is the build's: the gate would judge every row.
    clauses = contracts["kpi_rule_clauses"].columns
    assert clauses["is_interpretation"].not_null
    assert not clauses["reference"].not_null and not clauses["alternative"].not_null
