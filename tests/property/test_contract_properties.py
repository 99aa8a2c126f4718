"""Property tests of the landing contract (``connectors.contract.apply_contract``) with the real
declarations of the registry.

- XML 130 episode summaries (``health_xml130`` / ``xml1``) with any subset of the optional
  declared columns absent: never an exception, rows in = clean + rejected, reasons from the
  declared set; a column left out means the same as the column sent empty; and a row's outcome
  does not depend on the other rows of its batch.
- Pseudonyms are the keyed HMAC-SHA256 of RFC 2104 (``hmac.new(key, value.strip().encode(),
  sha256)``) for keys shorter than, equal to and longer than SHA-256's 64-byte block, whichever
  of the contract's two hashing paths (SQL for mostly distinct values, Python for repetitive
  ones) the batch takes, including values with surrounding tabs and line breaks.
- A code of any declared code list, sent in another case, with surrounding or doubled spaces or
  in NFD, lands as the listed spelling (unless the column is case-sensitive).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import date
from functools import cache

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.contract import apply_contract
from connectors.registry import ColumnType, Source, TableSpec, load_registry
from iochub.settings import get_settings
from tests.property.xml130_files import text_values, xml1_record

PROPERTY = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TODAY = date(2025, 7, 20)
LINEAGE = {"_file_created_on": "20250720", "_facility_code": "87001", "_source_file": "a.xml"}
GENERIC_REASONS = {
    "missing_required",
    "bad_type",
    "not_in_code_list",
    "out_of_range",
    "future_date",
    "unknown_admin_code",
}

KEY = b"property-key"


@cache
def _registry() -> dict[str, Source]:
    return load_registry(get_settings())


def _xml1() -> TableSpec:
    return _registry()["health_xml130"].table("xml1")


def _declared(spec: TableSpec) -> list[str]:
    return list(dict.fromkeys([*spec.columns, *spec.pii, *spec.required]))


def _optional() -> list[str]:
    xml1 = _xml1()
    return [c for c in _declared(xml1) if c not in xml1.required_columns()]


# A cell: mostly what a valid record holds, sometimes what a careless sender writes.
_garbage = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["-1", "-0.5", "abc", "99999", "7", "1.000,5", "202513450000", "2025-07-01"]),
    st.text(st.characters(blacklist_categories=["Cc", "Cs"]), max_size=12),
)


@st.composite
def xml1_batches(draw: st.DrawFn) -> tuple[list[dict[str, str | None]], list[str]]:
    """Rows of every declared column, and the optional columns this batch leaves out."""
    rows = []
    for i in range(draw(st.integers(1, 4))):
        record = draw(xml1_record(f"LK{i:04d}"))
        row: dict[str, str | None] = {c: record.get(c) for c in _declared(_xml1())}
        for column in list(row):
            if draw(st.integers(0, 9)) == 0:
                row[column] = draw(_garbage)
        rows.append({**row, **LINEAGE})
    absent = draw(st.lists(st.sampled_from(_optional()), unique=True))
    return rows, absent


def _table(rows: list[dict[str, str | None]], columns: list[str]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns})


def _outcome(
    spec: TableSpec, batch: pa.Table
) -> tuple[list[dict[str, object]], list[tuple[str, str]]]:
    result = apply_contract(spec, batch, KEY, TODAY)
    return result.clean.to_pylist(), [(r.item, r.reason) for r in result.rejected]


@settings(PROPERTY, max_examples=30)
@given(batch=xml1_batches())
def test_optional_columns_absent_never_break_the_contract(
    batch: tuple[list[dict[str, str | None]], list[str]],
) -> None:
    rows, absent = batch
    xml1 = _xml1()
    present = [c for c in [*_declared(xml1), *LINEAGE] if c not in absent]
    result = apply_contract(xml1, _table(rows, present), KEY, TODAY)
    assert result.clean.num_rows + len(result.rejected) == len(rows)
    reasons = GENERIC_REASONS | {check.reason for check in xml1.checks}
    assert {r.reason for r in result.rejected} <= reasons
    for column in xml1.required_columns():
        assert None not in result.clean.column(column).to_pylist()

    # Left out = sent empty: the same rows land, the same rows are rejected for the same reason.
    nulls = [{**r, **dict.fromkeys(absent)} for r in rows]
    clean_absent, rejected_absent = _outcome(xml1, _table(rows, present))
    clean_null, rejected_null = _outcome(xml1, _table(nulls, [*_declared(xml1), *LINEAGE]))
    assert rejected_absent == rejected_null
    assert [{k: r.get(k) for k in present} for r in clean_absent] == [
        {k: r.get(k) for k in present} for r in clean_null
    ]

    # A row's fate does not depend on the rows it shares a batch with.
    for row in rows:
        clean_alone, rejected_alone = _outcome(xml1, _table([row], present))
        if rejected_alone:
            assert rejected_alone[0] in rejected_absent, (row, rejected_alone, rejected_absent)
        else:
            assert clean_alone[0] in clean_absent


# --- pseudonyms ----------------------------------------------------------------------------------


def _rfc2104(key: bytes, value: str) -> str:
    return hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()


def _pseudonyms(key: bytes, names: list[str]) -> list[str]:
    """HO_TEN (an hmac column) as landed for rows that are valid otherwise."""
    n = len(names)
    batch = pa.table(
        {
            "MA_LK": [f"LK{i:04d}" for i in range(n)],
            "MA_CSKCB": ["87001"] * n,
            "NGAY_VAO": ["202507010800"] * n,
            "HO_TEN": names,
            **{k: [v] * n for k, v in LINEAGE.items()},
        }
    )
    result = apply_contract(_xml1(), batch, key, TODAY)
    assert not result.rejected, [r.detail for r in result.rejected]
    return [str(v) for v in result.clean.column("HO_TEN").to_pylist()]


_names = st.lists(text_values, min_size=1, max_size=5, unique=True)


@pytest.mark.parametrize("key_length", [1, 32, 64, 65, 128])
@settings(PROPERTY, max_examples=25)
@given(data=st.data(), names=_names, pad=st.sampled_from(["", " ", "  "]))
def test_pseudonyms_are_rfc2104_hmac_for_any_key_length(
    key_length: int, data: st.DataObject, names: list[str], pad: str
) -> None:
    key = data.draw(st.binary(min_size=key_length, max_size=key_length), label="key")
    names = [pad + n + pad for n in names]
    expected = [_rfc2104(key, n) for n in names]
    # Distinct values are hashed in SQL, repeated ones in Python: both must give the HMAC.
    assert _pseudonyms(key, names) == expected
    assert _pseudonyms(key, names * 3) == expected * 3


@settings(PROPERTY, max_examples=30)
@given(
    names=_names,
    before=st.text(" \t\n\r", max_size=2),
    after=st.text(" \t\n\r", max_size=2),
)
def test_pseudonyms_ignore_surrounding_whitespace_on_both_paths(
    names: list[str], before: str, after: str
) -> None:
    """``pseudonymise.pseudonym`` trims with ``str.strip``: a name sent with a trailing line
    break is the same person, whichever hashing path its batch takes."""
    sent = [before + n + after for n in names]
    expected = [_rfc2104(KEY, n) for n in names]
    assert _pseudonyms(KEY, sent) == expected  # mostly distinct: SQL path
    assert _pseudonyms(KEY, sent * 3) == expected * 3  # repetitive: Python path


# --- code lists ----------------------------------------------------------------------------------


def _coded() -> list[tuple[str, str, str]]:
    """Every (source, table, column) of the registry with a code list of text."""
    return sorted(
        (source.name, table.name, column)
        for source in _registry().values()
        for table in source.tables
        for column, spec in table.columns.items()
        if spec.codes and spec.type is ColumnType.STRING
    )


@settings(PROPERTY, max_examples=150)
@given(data=st.data())
def test_code_lists_land_the_listed_spelling(data: st.DataObject) -> None:
    source, table_name, column = data.draw(st.sampled_from(_coded()), label="column")
    table = _registry()[source].table(table_name)
    spec = table.columns[column]
    assert spec.codes is not None
    spellings = {c: c for c in spec.codes} | dict(spec.aliases)
    sent, code = data.draw(st.sampled_from(sorted(spellings.items())), label="code")
    forms = [
        lambda s: s,
        lambda s: f"  {s} ",
        lambda s: s.replace(" ", "  "),
        lambda s: unicodedata.normalize("NFD", s),
    ]
    if not spec.case_sensitive:
        forms += [str.upper, str.lower, str.swapcase, str.title]
    form = data.draw(st.sampled_from(forms), label="form")
    value = form(sent)
    # The column alone, with its real declaration: other columns' rules are not at stake here.
    alone = table.model_copy(
        update={"columns": {column: spec}, "required": [], "checks": [], "pii": {}}
    )
    result = apply_contract(alone, pa.table({column: [value]}), KEY, TODAY)
    assert [(r.reason, r.detail) for r in result.rejected] == [], (source, table_name, value)
    assert result.clean.column(column).to_pylist() == [code], (source, table_name, value)
