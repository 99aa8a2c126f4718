"""Landing-batch suites from the registry contract: what the contract keeps passes them; rows the
contract should have rejected (a contract bug) fail them, and the run commits nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from connectors import landing
from connectors.contract import ContractResult, apply_contract
from connectors.landing import BatchWriter
from expectations.landing import LandingSuiteFailed, validate_landing_part
from iochub.settings import Settings
from tests.unit.test_contract import KEY, _batch, _spec

TODAY = date(2026, 1, 1)


def test_rows_the_contract_keeps_pass_their_suite() -> None:
    clean = apply_contract(_spec(), _batch(), KEY, today=TODAY).clean
    count, failures = validate_landing_part("one_stop", _spec(), clean, TODAY)
    assert failures == []
    # id required (exists, not null), fee range, received not future, commune, status, 2 pseudonyms
    assert count == 8


def test_rows_the_contract_should_have_rejected_fail() -> None:
    clean = apply_contract(_spec(), _batch(), KEY, today=TODAY).clean
    broken = clean.set_column(
        clean.column_names.index("fee"), "fee", pa.array([-5.0] * clean.num_rows)
    )
    broken = broken.set_column(
        broken.column_names.index("citizen_id"),
        "citizen_id",
        pa.array(["001234567890"] * clean.num_rows),
    )
    _, failures = validate_landing_part("one_stop", _spec(), broken, TODAY)
    assert [f.split(" observed")[0] for f in failures] == [
        "expect_column_values_to_be_between(fee)",
        "expect_column_values_to_match_regex(citizen_id)",
    ]


def test_a_part_failing_its_suite_is_never_committed(
    home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def contract_that_keeps_everything(spec, batch, key, today=None):
        result = apply_contract(spec, batch, key, today)
        return ContractResult(
            clean=result.clean.set_column(
                result.clean.column_names.index("status"),
                "status",
                pa.array(["9"] * result.clean.num_rows),
            )
        )

    monkeypatch.setattr(landing, "apply_contract", contract_that_keeps_everything)
    writer = BatchWriter(home, "one_stop")
    writer.land(_spec(), _batch())
    with pytest.raises(LandingSuiteFailed, match="status"):
        writer.commit()
    assert not list(Path(home.manifest_dir).glob("one_stop/*.json"))
    assert not list(Path(home.raw_dir).rglob("*.parquet"))
