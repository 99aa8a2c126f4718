"""The landing contract on small hand-made batches: every reason, PII, drift and renames."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest

from connectors.contract import SchemaDriftError, apply_contract
from connectors.pseudonymise import pseudonym
from connectors.registry import TableSpec

KEY = b"unit-test-key"


def _spec(**extra: object) -> TableSpec:
    return TableSpec.model_validate(
        {
            "name": "dossiers",
            "title": "t",
            "primary_key": ["id"],
            "table": "HoSo",
            "columns": {
                "id": {"type": "integer", "required": True},
                "fee": {"type": "decimal", "min": 0},
                "received": {"type": "date", "format": "%Y%m%d", "future": False},
                "commune": {"admin_code": True},
                "status": {"codes": ["1", "2"]},
                "owner_name": {"renamed_from": ["ChuHoSo"]},
                "citizen_id": {},
                "phone": {},
                "born": {},
            },
            "checks": [{"reason": "impossible_date", "rule": "received >= DATE '2020-01-01'"}],
            "pii": {"owner_name": "hmac", "citizen_id": "hmac", "phone": "drop", "born": "year"},
            **extra,
        }
    )


def _batch(**overrides: list[str | None]) -> pa.Table:
    rows: dict[str, list[str | None] | list[str]] = {
        "id": ["1", "2", "x", None, "5", "6", "7"],
        "fee": ["1.234,5", "-1", "2", "3", "4", "5", "0,5"],
        "received": ["20250101"] * 4 + ["20990101", "19990101", "20250102"],
        "commune": ["28249"] * 5 + ["28249", "99999"],
        "status": ["1", "1", "2", "2", "1", "1", "3"],
        "ChuHoSo": ["Nguyễn Văn A"] * 7,
        "citizen_id": ["001234567890"] * 7,
        "phone": ["0912345678"] * 7,
        "born": ["19800101"] * 7,
    }
    rows.update(overrides)
    return pa.table(rows)


def test_clean_rows_are_typed_and_pseudonymised() -> None:
    result = apply_contract(_spec(), _batch(), KEY, today=date(2026, 1, 1))
    clean = result.clean.to_pylist()
    assert [row["id"] for row in clean] == [1]
    row = clean[0]
    assert row["fee"] == 1234.5  # Vietnamese notation
    assert row["received"] == date(2025, 1, 1)
    assert row["owner_name"] == pseudonym(KEY, "Nguyễn Văn A")
    assert row["citizen_id"] == pseudonym(KEY, "001234567890")
    assert row["born"] == "1980"
    assert "phone" not in row
    assert result.renamed == {"ChuHoSo": "owner_name"}


def test_each_bad_row_has_its_reason_and_keeps_raw_text_without_clear_pii() -> None:
    result = apply_contract(_spec(), _batch(), KEY, today=date(2026, 1, 1))
    reasons = {row.item: row.reason for row in result.rejected}
    assert reasons == {
        "key=2": "out_of_range",
        "key=x": "bad_type",
        "key=": "missing_required",
        "key=5": "future_date",
        "key=6": "impossible_date",
        "key=7": "unknown_admin_code",
    }
    assert len(result.clean) + len(result.rejected) == 7
    raw = json.loads(next(r for r in result.rejected if r.item == "key=x").raw)
    assert raw["id"] == "x"  # what the source sent, not the failed cast
    assert raw["citizen_id"] == pseudonym(KEY, "001234567890")
    assert "phone" not in raw and "Nguyễn" not in json.dumps(raw, ensure_ascii=False)
    detail = next(r for r in result.rejected if r.item == "key=7").detail
    assert "unknown_admin_code: commune" in detail and "not_in_code_list: status" in detail


def test_nfd_text_lands_as_nfc() -> None:
    spec = TableSpec.model_validate(
        {"name": "t", "title": "t", "primary_key": ["k"], "table": "t", "columns": {"k": {}}}
    )
    nfd = "Nguye\u0302\u0303n"
    result = apply_contract(spec, pa.table({"k": [nfd]}), KEY)
    assert result.clean.column("k").to_pylist() == ["Nguyễn"]


def test_drift_policies() -> None:
    batch = _batch().append_column("surprise", pa.array(["s"] * 7))
    evolved = apply_contract(_spec(), batch, KEY, today=date(2026, 1, 1))
    assert evolved.added_columns == ["surprise"]
    assert "surprise" in evolved.clean.column_names

    quarantined = apply_contract(
        _spec(drift={"added": "quarantine"}), batch, KEY, today=date(2026, 1, 1)
    )
    assert quarantined.clean.num_rows == 0
    assert {r.reason for r in quarantined.rejected} == {"schema_drift"}
    assert len(quarantined.rejected) == 7

    with pytest.raises(SchemaDriftError, match="id"):
        apply_contract(_spec(), batch.drop_columns(["id"]), KEY)


def test_declared_rename_maps_both_versions_into_one_column() -> None:
    spec = TableSpec.model_validate(
        {
            "name": "xml13",
            "title": "t",
            "primary_key": ["MA_LK"],
            "record_path": ".",
            "columns": {"MA_LK": {}, "MA_CSKCB_DI": {"renamed_from": ["MA_NOI_DI"]}},
        }
    )
    # Files of the 4750 (MA_NOI_DI) and 3176 (MA_CSKCB_DI) layouts gathered in one batch.
    batch = pa.table(
        {
            "MA_LK": ["a", "b"],
            "MA_NOI_DI": ["87001", None],
            "MA_CSKCB_DI": [None, "82002"],
        }
    )
    result = apply_contract(spec, batch, KEY)
    assert result.clean.column_names == ["MA_LK", "MA_CSKCB_DI"]
    assert result.clean.column("MA_CSKCB_DI").to_pylist() == ["87001", "82002"]
    assert result.renamed == {"MA_NOI_DI": "MA_CSKCB_DI"}
    assert not result.added_columns


def test_distinct_and_repeated_values_get_the_same_pseudonym_function() -> None:
    # Mostly-distinct columns are hashed in SQL, repetitive ones in Python: same HMAC.
    spec = TableSpec.model_validate(
        {
            "name": "t",
            "title": "t",
            "primary_key": ["k"],
            "table": "t",
            "pii": {"citizen_id": "hmac", "name": "hmac"},
        }
    )
    ids = [f"08712345678{i}" for i in range(10)]
    batch = pa.table(
        {"k": [str(i) for i in range(10)], "citizen_id": ids, "name": ["Lê Văn A"] * 10}
    )
    clean = apply_contract(spec, batch, KEY).clean
    assert clean.column("citizen_id").to_pylist() == [pseudonym(KEY, v) for v in ids]
    assert set(clean.column("name").to_pylist()) == {pseudonym(KEY, "Lê Văn A")}
