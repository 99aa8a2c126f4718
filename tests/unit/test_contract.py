"""The landing contract on small hand-made batches: every reason, PII, drift and renames."""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
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


def _registered(source: str, table: str) -> TableSpec:
    from connectors.registry import load_registry
    from iochub.settings import get_settings

    return load_registry(get_settings())[source].table(table)


def test_a_batch_without_optional_columns_its_rules_name_lands() -> None:
    # A 3176 XML 130 episode may omit T_BNCCT and T_BNTT; xml1's negative_amount rule names
    # both. Alone in a batch this raised a DuckDB BinderException instead of landing.
    spec = _registered("health_xml130", "xml1")
    batch = pa.table(
        {
            "MA_LK": ["LK1", "LK2"],
            "MA_CSKCB": ["87001", "87001"],
            "NGAY_VAO": ["202507010800", "202507010900"],
            "NGAY_RA": ["202507011000", "202507011100"],
            "T_TONGCHI_BV": ["150000", "-5"],
            "_file_created_on": ["20250702", "20250702"],
        }
    )
    result = apply_contract(spec, batch, KEY, today=date(2026, 1, 1))
    assert result.clean.column("MA_LK").to_pylist() == ["LK1"]
    assert result.clean.column("T_BNCCT").to_pylist() == [None]  # declared, so always there
    assert [(r.reason, json.loads(r.raw).get("T_BNCCT", "absent")) for r in result.rejected] == [
        ("negative_amount", "absent")  # quarantine keeps what was sent, nothing invented
    ]
    assert result.missing_columns == []  # optional columns are not drift


def test_code_lists_compare_without_case_form_or_spacing_and_land_the_listed_code() -> None:
    spec = _spec(
        columns={
            "id": {"type": "integer"},
            "digital": {"codes": ["Có", "Không"]},
            "level": {
                "codes": ["Trung học cơ sở", "Tiểu học"],
                "aliases": {"THCS": "Trung học cơ sở", "TH": "Tiểu học"},
            },
            "grade": {"codes": ["A", "b"], "case_sensitive": True},
        },
        checks=[],
        pii={},
    )
    nfd = unicodedata.normalize("NFD", "KHÔNG")
    batch = pa.table(
        {
            "id": ["1", "2", "3", "4", "5"],
            "digital": ["có", f" {nfd} ", "CÓ", "Co", "Có"],
            "level": ["thcs", "Trung  học   cơ sở", "TIỂU HỌC", "Th", "THPT"],
            "grade": ["A", "b", "A", "A", "a"],
        }
    )
    result = apply_contract(spec, batch, KEY)
    assert result.clean.column("digital").to_pylist() == ["Có", "Không", "Có"]
    assert result.clean.column("level").to_pylist() == [
        "Trung học cơ sở",
        "Trung học cơ sở",
        "Tiểu học",
    ]
    # "Co" has no diacritic: another word, not another form; "a" in a case-sensitive list.
    assert [(r.item, r.reason) for r in result.rejected] == [
        ("key=4", "not_in_code_list"),
        ("key=5", "not_in_code_list"),
    ]
    assert "level" in result.rejected[1].detail and "grade" in result.rejected[1].detail


def test_aliases_must_name_listed_codes() -> None:
    with pytest.raises(ValueError, match="not in codes"):
        _spec(columns={"id": {}, "x": {"codes": ["A"], "aliases": {"a1": "B"}}}, checks=[])


@pytest.mark.parametrize("length", [1, 32, 64, 65, 128])
def test_pseudonyms_are_hmac_sha256_for_keys_of_any_length(length: int) -> None:
    # Keys over SHA-256's 64-byte block are hashed first (RFC 2104); the SQL path skipped that.
    key = bytes(range(1, length + 1))
    spec = TableSpec.model_validate(
        {
            "name": "t",
            "title": "t",
            "primary_key": ["k"],
            "table": "t",
            "pii": {"citizen_id": "hmac", "name": "hmac"},
        }
    )
    ids = [f" 08712345678{i}" for i in range(10)]  # distinct: hashed in SQL
    batch = pa.table({"k": [str(i) for i in range(10)], "citizen_id": ids, "name": ["Lê A"] * 10})
    clean = apply_contract(spec, batch, key).clean
    expected = [hmac.new(key, v.strip().encode(), hashlib.sha256).hexdigest() for v in ids]
    assert clean.column("citizen_id").to_pylist() == expected
    name = hmac.new(key, "Lê A".encode(), hashlib.sha256).hexdigest()
    assert set(clean.column("name").to_pylist()) == {name}  # repeated: hashed in Python
    assert pseudonym(key, "Lê A") == name


def test_xml3_lines_land_from_the_4210_price_name_and_what_a_line_cannot_be_is_rejected() -> None:
    spec = _registered("health_xml130", "xml3")
    lines = 7
    batch = pa.table(
        {
            "MA_LK": ["LK1"] * lines,
            "STT": [str(i) for i in range(1, lines + 1)],
            # 5: neither a service nor a supply code.
            "MA_DICH_VU": ["02.1896", None, "K03.1917", "02.1896", None, "02.1896", "02.1896"],
            "MA_VAT_TU": [None, "N03.05.010", None, None, None, None, None],
            "MA_NHOM": ["13", "10", "14", "13", "13", "13", "13"],
            "SO_LUONG": ["1", "2.5", "-1", "1", "1", "1", "1"],  # 3: negative quantity
            "DON_GIA": ["42100", "900", "249000", "42100", "42100", "42100", "42100"],
            "THANH_TIEN_BV": ["42100", "2250", "0", "-42100", "42100", "42100", "42100"],
            "MUC_HUONG": ["80", "80", "80", "80", "80", "180", "80"],  # 6: over 100 %
            # 7: ordered the day after the file was made.
            "NGAY_YL": ["202507011000"] * 6 + ["202507030800"],
            "_facility_code": ["87001"] * lines,
            "_file_created_on": ["20250702"] * lines,
        }
    )
    result = apply_contract(spec, batch, KEY, today=date(2026, 1, 1))
    assert result.clean.column("STT").to_pylist() == ["1", "2"]
    # The 4210 name lands under the 4750 one; it is reported as a rename, not as drift.
    assert result.clean.column("DON_GIA_BV").to_pylist() == ["42100", "900"]
    assert "DON_GIA" not in result.clean.column_names
    assert result.renamed == {"DON_GIA": "DON_GIA_BV"}
    assert result.added_columns == [] and result.missing_columns == []
    assert result.clean.column("NGAY_KQ").to_pylist() == [None, None]  # declared, not sent
    assert [(r.item, r.reason) for r in result.rejected] == [
        ("key=87001|LK1|3", "negative_quantity"),
        ("key=87001|LK1|4", "negative_amount"),
        ("key=87001|LK1|5", "missing_required"),
        ("key=87001|LK1|6", "out_of_range"),
        ("key=87001|LK1|7", "future_date"),
    ]


def test_xml4_results_not_in_yet_land_and_results_after_the_file_do_not() -> None:
    spec = _registered("health_xml130", "xml4")
    batch = pa.table(
        {
            "MA_LK": ["LK1", "LK1", "LK1", "LK1"],
            "STT": ["1", "2", "3", "x"],
            "MA_DICH_VU": ["22.0121.1370"] * 4,
            "MA_CHI_SO": ["WBC", "HGB", "GLU", "WBC"],
            "GIA_TRI": ["7.5", None, "5.1", "7.5"],
            # 2: no result yet, sent empty; 3: after the file's day.
            "NGAY_KQ": ["202507011000", None, "202507030900", "202507011000"],
            "_facility_code": ["87001"] * 4,
            "_file_created_on": ["20250702"] * 4,
        }
    )
    result = apply_contract(spec, batch, KEY, today=date(2026, 1, 1))
    assert result.clean.column("STT").to_pylist() == ["1", "2"]
    assert [(r.item, r.reason) for r in result.rejected] == [
        ("key=87001|LK1|3", "future_date"),
        ("key=87001|LK1|x", "bad_type"),
    ]


def test_every_registered_rule_applies_to_its_declared_columns() -> None:
    # The check `ioc sources validate` runs: a rule naming an undeclared column would fail
    # every run of its source, whatever the data.
    from connectors.contract import check_declaration
    from connectors.landing import lineage_columns
    from connectors.registry import load_registry
    from iochub.settings import get_settings

    for source in load_registry(get_settings()).values():
        check_declaration(source, list(lineage_columns(source)))
